#pragma once
// What covers a fitted face, read from the photo around its landmarks: glasses, and hair or a
// hat over the brows. The appearance builder screens its gallery with them; the fit of a
// photo's own appearance code leaves glasses frames out of its skin.
#include "deid/fitted_face.h"

namespace ideu {

// Above it, a face wears glasses. On the 71 developer photos, the 9 with glasses score 1.25
// to 2.85 and the others at most 0.80 (`ideudemon-bench screen`).
constexpr double kGlassesThreshold = 0.85;

// Glasses score of a fitted face: the strongest horizontal edge across the nose bridge and
// under the eyes, relative to the cheeks' own texture.
double glassesScore(const FittedFace& face);
inline bool wearsGlasses(const FittedFace& face) { return glassesScore(face) > kGlassesThreshold; }

// Share of the forehead band above the brows unlike the cheeks' skin colour.
double foreheadCover(const FittedFace& face);

}  // namespace ideu
