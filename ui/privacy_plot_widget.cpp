#include "privacy_plot_widget.h"

#include <QLabel>
#include <QVBoxLayout>

#include <qcustomplot.h>

namespace ideu::ui {
namespace {

const QColor kDlibColour(40, 100, 200), kFaceResColour(30, 150, 90), kCurrentColour(230, 140, 20);
const QString kCurrentLayer = QStringLiteral("current setting");

QCPGraph* addCurve(QCustomPlot* plot, const QColor& colour, const QString& name) {
    QCPGraph* g = plot->addGraph();
    g->setPen(QPen(colour, 2));
    g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 5));
    g->setName(name);
    return g;
}

QCPGraph* addMarker(QCustomPlot* plot, const QColor& colour, QCPScatterStyle::ScatterShape shape) {
    QCPGraph* g = plot->addGraph();
    g->setLineStyle(QCPGraph::lsNone);
    g->setScatterStyle(QCPScatterStyle(shape, colour, kCurrentColour, 11));
    g->removeFromLegend();
    return g;
}

QString verdictLine(const QString& name, bool match, double distance, double threshold) {
    const QString state = match ? QObject::tr("<span style='color:#c02828'><b>matched</b></span>")
                                : QObject::tr("<span style='color:#208040'><b>not matched</b></span>");
    return QObject::tr("%1: distance <b>%2</b> (match below %3) — %4").arg(name).arg(distance, 0, 'f', 3).arg(threshold, 0, 'f', 3).arg(state);
}

}  // namespace

PrivacyPlotWidget::PrivacyPlotWidget(QWidget* parent) : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    verdict_ = new QLabel(tr("Recognisers: –"));
    verdict_->setTextFormat(Qt::RichText);
    verdict_->setToolTip(tr("A face is protected only when no recogniser links the output to the original."));
    layout->addWidget(verdict_);
    dlibReadout_ = new QLabel(tr("dlib ResNet: –"));
    dlibReadout_->setTextFormat(Qt::RichText);
    dlibReadout_->setToolTip(tr("Euclidean distance between the dlib ResNet descriptors (tight aligned chip: skin, brows, eyes) "
                                "of the original and the output face."));
    layout->addWidget(dlibReadout_);
    faceresReadout_ = new QLabel(tr("FaceRes: –"));
    faceresReadout_->setTextFormat(Qt::RichText);
    faceresReadout_->setToolTip(tr("Cosine distance between the HSE FaceRes descriptors (whole-head crop: hair, outline, "
                                   "face shape) of the original and the output face."));
    layout->addWidget(faceresReadout_);
    plot_ = new QCustomPlot(this);
    plot_->setMinimumHeight(180);
    plot_->xAxis->setLabel(tr("noise scale"));
    plot_->yAxis->setLabel(tr("distance / match threshold"));
    const double maxScale = PipelineController::maxScale();
    plot_->xAxis->setRange(0, maxScale + 0.02);
    plot_->yAxis->setRange(0, 2.0);
    dlibCurve_ = addCurve(plot_, kDlibColour, tr("dlib ResNet"));
    faceresCurve_ = addCurve(plot_, kFaceResColour, tr("FaceRes"));
    const auto [dlibThreshold, faceresThreshold] = PipelineController::matchThresholds();
    QCPGraph* threshold = plot_->addGraph();
    threshold->setData(QVector<double>{0, maxScale + 0.02}, QVector<double>{1, 1});
    threshold->setPen(QPen(QColor(200, 40, 40), 1.5, Qt::DashLine));
    threshold->setName(tr("match line (dlib %1, FaceRes %2)").arg(dlibThreshold, 0, 'f', 2).arg(faceresThreshold, 0, 'f', 2));
    dlibMarker_ = addMarker(plot_, kDlibColour, QCPScatterStyle::ssDiamond);
    faceresMarker_ = addMarker(plot_, kFaceResColour, QCPScatterStyle::ssSquare);
    current_ = new QCPItemStraightLine(plot_);
    current_->setPen(QPen(kCurrentColour, 1, Qt::DotLine));
    current_->point1->setCoords(PipelineController::defaultScale(), 0);
    current_->point2->setCoords(PipelineController::defaultScale(), 1);
    // The current setting moves with the slider: it and its markers are drawn on a buffered
    // layer of their own, so a move redraws them alone, not the curves and axes.
    plot_->addLayer(kCurrentLayer, plot_->layer("main"), QCustomPlot::limAbove);
    plot_->layer(kCurrentLayer)->setMode(QCPLayer::lmBuffered);
    current_->setLayer(kCurrentLayer);
    dlibMarker_->setLayer(kCurrentLayer);
    faceresMarker_->setLayer(kCurrentLayer);
    // The legend sits under the axes, in two rows: inside them it hid
    // the current setting's line and markers wherever the two crossed.
    plot_->legend->setVisible(true);
    plot_->legend->setFont(QFont(font().family(), 8));
    plot_->legend->setWrap(2);
    plot_->legend->setFillOrder(QCPLayoutGrid::foRowsFirst, true);  // two rows; rearranges the entries
    plot_->legend->setBorderPen(Qt::NoPen);
    plot_->legend->setMargins(QMargins(4, 0, 4, 2));
    plot_->axisRect()->insetLayout()->take(plot_->legend);
    plot_->plotLayout()->addElement(1, 0, plot_->legend);
    plot_->plotLayout()->setRowStretchFactor(1, 0.001);
    plot_->plotLayout()->setRowSpacing(0);
    layout->addWidget(plot_, 1);
    note_ = new QLabel;
    note_->setStyleSheet("color: gray");
    layout->addWidget(note_);
}

void PrivacyPlotWidget::clearSweep() {
    dlibCurve_->data()->clear();
    faceresCurve_->data()->clear();
    plot_->replot();
}

void PrivacyPlotWidget::addSweepPoint(double scale, const IdentityReadout& r) {
    if (r.detected) {
        dlibCurve_->addData(scale, r.dlibDistance / r.dlibThreshold);
        if (r.faceresAvailable) faceresCurve_->addData(scale, r.faceresDistance / r.faceresThreshold);
    }
    plot_->replot(QCustomPlot::rpQueuedReplot);  // points come in bursts: one replot for them
}

void PrivacyPlotWidget::setCurrentScale(double scale) {
    current_->point1->setCoords(scale, 0);
    current_->point2->setCoords(scale, 1);
    dlibMarker_->data()->clear();
    faceresMarker_->data()->clear();
    plot_->layer(kCurrentLayer)->replot();
}

void PrivacyPlotWidget::setCurrentReadout(const IdentityReadout& r) {
    dlibMarker_->data()->clear();
    faceresMarker_->data()->clear();
    if (!r.detected) {
        verdict_->setText(tr("Recognisers: <b>no face detected</b> in the output"));
        dlibReadout_->setText(tr("dlib ResNet: –"));
        faceresReadout_->setText(tr("FaceRes: –"));
    } else {
        const bool matched = r.dlibMatch || r.faceresMatch;
        verdict_->setText(tr("Recognisers: <b><span style='color:%1'>%2</span></b>")
                              .arg(matched ? "#c02828" : "#208040", r.verdict.toHtmlEscaped()));
        const double x = current_->point1->coords().x();
        dlibMarker_->addData(x, r.dlibDistance / r.dlibThreshold);
        dlibReadout_->setText(verdictLine(tr("dlib ResNet"), r.dlibMatch, r.dlibDistance, r.dlibThreshold));
        if (r.faceresAvailable) {
            faceresMarker_->addData(x, r.faceresDistance / r.faceresThreshold);
            faceresReadout_->setText(verdictLine(tr("FaceRes"), r.faceresMatch, r.faceresDistance, r.faceresThreshold));
        } else {
            faceresReadout_->setText(tr("FaceRes: <i>unavailable</i>"));
            faceresReadout_->setToolTip(r.faceresUnavailable);
        }
    }
    plot_->layer(kCurrentLayer)->replot();
}

void PrivacyPlotWidget::setComputing(bool computing) {
    note_->setText(computing ? tr("Sweeping the noise scale for this face…")
                             : tr("Sweep: dlib ResNet (face-api port) and HSE FaceRes, each over its threshold"));
}

}  // namespace ideu::ui
