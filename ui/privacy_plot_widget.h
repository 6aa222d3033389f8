#pragma once
// The privacy plot of the selected face: both recognisers' distances to the original against
// the noise scale (swept in the background for the current seed), each divided by its own
// match threshold so 1.0 is the match line for both, the current setting, and a live readout
// per recogniser with the combined verdict.
#include "pipeline_controller.h"

#include <QWidget>

class QCustomPlot;
class QCPGraph;
class QCPItemStraightLine;
class QLabel;

namespace ideu::ui {

class PrivacyPlotWidget : public QWidget {
    Q_OBJECT
public:
    explicit PrivacyPlotWidget(QWidget* parent = nullptr);

    // For tests: the readout lines (dlib ResNet, FaceRes, verdict) and the sweep curves.
    QLabel* dlibReadout() const { return dlibReadout_; }
    QLabel* faceresReadout() const { return faceresReadout_; }
    QLabel* verdict() const { return verdict_; }
    QCPGraph* dlibCurve() const { return dlibCurve_; }
    QCPGraph* faceresCurve() const { return faceresCurve_; }
    QCustomPlot* plot() const { return plot_; }

public slots:
    void clearSweep();
    void addSweepPoint(double scale, const ideu::ui::IdentityReadout& readout);
    void setCurrentScale(double scale);
    void setCurrentReadout(const ideu::ui::IdentityReadout& readout);
    void setComputing(bool computing);

private:
    QCustomPlot* plot_ = nullptr;
    QCPGraph* dlibCurve_ = nullptr;
    QCPGraph* faceresCurve_ = nullptr;
    QCPGraph* dlibMarker_ = nullptr;
    QCPGraph* faceresMarker_ = nullptr;
    QCPItemStraightLine* current_ = nullptr;
    QLabel* verdict_ = nullptr;
    QLabel* dlibReadout_ = nullptr;
    QLabel* faceresReadout_ = nullptr;
    QLabel* note_ = nullptr;
};

}  // namespace ideu::ui
