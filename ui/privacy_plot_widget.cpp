#include "privacy_plot_widget.h"

#include <QLabel>
#include <QVBoxLayout>

#include <qcustomplot.h>

namespace ideu::ui {

PrivacyPlotWidget::PrivacyPlotWidget(QWidget* parent) : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    readout_ = new QLabel(tr("Recogniser distance: –"));
    readout_->setTextFormat(Qt::RichText);
    readout_->setToolTip(tr("Distance between the dlib ResNet face descriptors of the original and the output face.\n"
                            "Below 0.6 a recogniser would call them the same person."));
    layout->addWidget(readout_);
    plot_ = new QCustomPlot(this);
    plot_->setMinimumHeight(180);
    plot_->xAxis->setLabel(tr("noise scale"));
    plot_->yAxis->setLabel(tr("distance to original"));
    plot_->xAxis->setRange(0, 0.42);
    plot_->yAxis->setRange(0, 1.1);
    curve_ = plot_->addGraph();
    curve_->setPen(QPen(QColor(40, 100, 200), 2));
    curve_->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 5));
    curve_->setName(tr("this face, this seed"));
    QCPGraph* threshold = plot_->addGraph();
    threshold->setData(QVector<double>{0, 0.42}, QVector<double>{0.6, 0.6});
    threshold->setPen(QPen(QColor(200, 40, 40), 1.5, Qt::DashLine));
    threshold->setName(tr("match threshold 0.6"));
    marker_ = plot_->addGraph();
    marker_->setLineStyle(QCPGraph::lsNone);
    marker_->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDiamond, QColor(230, 140, 20), QColor(230, 140, 20), 11));
    marker_->setName(tr("current output"));
    current_ = new QCPItemStraightLine(plot_);
    current_->setPen(QPen(QColor(230, 140, 20), 1, Qt::DotLine));
    current_->point1->setCoords(0.35, 0);
    current_->point2->setCoords(0.35, 1);
    plot_->legend->setVisible(true);
    plot_->legend->setFont(QFont(font().family(), 8));
    plot_->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignBottom | Qt::AlignRight);
    layout->addWidget(plot_, 1);
    note_ = new QLabel;
    note_->setStyleSheet("color: gray");
    layout->addWidget(note_);
}

void PrivacyPlotWidget::clearSweep() {
    curve_->data()->clear();
    plot_->replot();
}

void PrivacyPlotWidget::addSweepPoint(double scale, bool detected, double distance) {
    if (detected) curve_->addData(scale, distance);
    plot_->replot();
}

void PrivacyPlotWidget::setCurrentScale(double scale) {
    current_->point1->setCoords(scale, 0);
    current_->point2->setCoords(scale, 1);
    marker_->data()->clear();
    plot_->replot();
}

void PrivacyPlotWidget::setCurrentDistance(bool detected, double distance, bool match) {
    marker_->data()->clear();
    if (!detected) {
        readout_->setText(tr("Recogniser distance: <b>no face detected</b> in the output"));
    } else {
        marker_->addData(current_->point1->coords().x(), distance);
        readout_->setText(match ? tr("Recogniser distance: <b>%1</b> — <span style='color:#c02828'><b>matched</b></span> "
                                     "(a recogniser still says same person)").arg(distance, 0, 'f', 2)
                                : tr("Recogniser distance: <b>%1</b> — <span style='color:#208040'><b>not matched</b></span>")
                                      .arg(distance, 0, 'f', 2));
    }
    plot_->replot();
}

void PrivacyPlotWidget::setComputing(bool computing) {
    note_->setText(computing ? tr("Sweeping the noise scale for this face…") : tr("Sweep: dlib ResNet (face-api port)"));
}

}  // namespace ideu::ui
