#pragma once
// The privacy benchmark's figure (like the paper's Fig. 4): recogniser distance against the
// noise scale with the 0.6 match threshold, match / re-identification / detection rates,
// and PSNR / SSIM.
#include "evaluation/privacy_eval.h"

#include <QString>

namespace ideu::ui {

// Writes a PNG; needs a QApplication (any platform, offscreen works).
bool saveEvaluationPlot(const EvaluationReport& report, const QString& path, int width = 1400, int height = 1000);

}  // namespace ideu::ui
