#pragma once
// The privacy plot of the selected face: recogniser distance to the original against the
// noise scale (swept in the background for the current seed), the 0.6 match threshold, the
// current setting, and a live readout.
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

public slots:
    void clearSweep();
    void addSweepPoint(double scale, bool detected, double distance);
    void setCurrentScale(double scale);
    void setCurrentDistance(bool detected, double distance, bool match);
    void setComputing(bool computing);

private:
    QCustomPlot* plot_ = nullptr;
    QCPGraph* curve_ = nullptr;
    QCPGraph* marker_ = nullptr;
    QCPItemStraightLine* current_ = nullptr;
    QLabel* readout_ = nullptr;
    QLabel* note_ = nullptr;
};

}  // namespace ideu::ui
