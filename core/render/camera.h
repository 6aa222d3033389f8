#pragma once
// Pinhole camera and rigid head pose. Camera axes follow OpenCV: x right, y down, z forward.
// Model axes (3DMM): x subject's left, y up, z out of the face.
#include <Eigen/Core>
#include <Eigen/Geometry>

namespace ideu {

struct Camera {
    double focal = 1200;  // pixels
    double cx = 256, cy = 256;
    int width = 512, height = 512;

    // The default camera for a square crop: a ~24° field of view, as a portrait lens at
    // arm's length. Fixed, because one photo's landmarks cannot tell focal length from
    // distance.
    static Camera forCrop(int size) {
        Camera c;
        c.focal = 1200.0 * size / 512.0;
        c.cx = c.cy = (size - 1) / 2.0;
        c.width = c.height = size;
        return c;
    }
    Eigen::Vector2d project(const Eigen::Vector3d& p) const {
        return {cx + focal * p.x() / p.z(), cy + focal * p.y() / p.z()};
    }
};

// model -> camera: p_cam = rotation · p_model + translation.
struct Pose {
    Eigen::Matrix3d rotation = frontal();
    Eigen::Vector3d translation{0, 0, 60};

    // A face looking straight into the camera.
    static Eigen::Matrix3d frontal() { return Eigen::Vector3d(1, -1, -1).asDiagonal(); }
    Eigen::Vector3d apply(const Eigen::Vector3d& p) const { return rotation * p + translation; }

    // Head angles in degrees relative to frontal: yaw (turn, + = subject turns to their
    // left), pitch (+ = chin up), roll (in-plane).
    Eigen::Vector3d anglesDegrees() const;
    static Eigen::Matrix3d fromAnglesDegrees(double yaw, double pitch, double roll);
};

}  // namespace ideu
