#pragma once
// The privacy benchmark's figure (like the paper's Fig. 4): recogniser distance against the
// noise scale for both recognisers (each over its match threshold), match / re-identification
// / detection rates, PSNR / SSIM, and FaceRes apparent age and gender kept.
#include "evaluation/privacy_eval.h"

#include <QString>

namespace ideu::ui {

// Writes a PNG; needs a QApplication (any platform, offscreen works).
bool saveEvaluationPlot(const EvaluationReport& report, const QString& path, int width = 1400, int height = 1400);

}  // namespace ideu::ui
