#include "render/camera.h"

#include <cmath>

namespace ideu {

namespace {
constexpr double kDeg = 180.0 / 3.14159265358979323846;
}

Eigen::Matrix3d Pose::fromAnglesDegrees(double yaw, double pitch, double roll) {
    // Head rotation in model axes: yaw about +y, pitch about +x, roll about +z.
    const Eigen::Matrix3d head = (Eigen::AngleAxisd(roll / kDeg, Eigen::Vector3d::UnitZ()) *
                                  Eigen::AngleAxisd(yaw / kDeg, Eigen::Vector3d::UnitY()) *
                                  Eigen::AngleAxisd(-pitch / kDeg, Eigen::Vector3d::UnitX()))
                                     .toRotationMatrix();
    return frontal() * head;
}

Eigen::Vector3d Pose::anglesDegrees() const {
    const Eigen::Matrix3d head = frontal().transpose() * rotation;  // = Rz(roll)·Ry(yaw)·Rx(-pitch)
    const double yaw = std::asin(std::clamp(-head(2, 0), -1.0, 1.0));
    const double roll = std::atan2(head(1, 0), head(0, 0));
    const double minusPitch = std::atan2(head(2, 1), head(2, 2));
    return {yaw * kDeg, -minusPitch * kDeg, roll * kDeg};
}

}  // namespace ideu
