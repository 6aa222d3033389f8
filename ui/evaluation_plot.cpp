#include "evaluation_plot.h"

#include "recognition/face_recognizer.h"
#include "recognition/faceres.h"

#include <qcustomplot.h>

namespace ideu::ui {
namespace {

QCPAxisRect* addPanel(QCustomPlot& plot, int row, int column, const QString& title, const QString& yLabel, double maxScale) {
    auto* rect = new QCPAxisRect(&plot);
    plot.plotLayout()->addElement(row * 2, column, new QCPTextElement(&plot, title, QFont("sans", 11, QFont::Bold)));
    plot.plotLayout()->addElement(row * 2 + 1, column, rect);
    rect->axis(QCPAxis::atBottom)->setLabel("noise scale");
    rect->axis(QCPAxis::atLeft)->setLabel(yLabel);
    rect->axis(QCPAxis::atBottom)->setRange(0, maxScale + 0.02);
    return rect;
}

QCPGraph* addLine(QCustomPlot& plot, QCPAxisRect* rect, const QVector<double>& x, const QVector<double>& y,
                  const QColor& colour, const QString& name, QCPLegend* legend) {
    QCPGraph* g = plot.addGraph(rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft));
    g->setData(x, y);
    g->setPen(QPen(colour, 2));
    g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, colour, colour, 6));
    g->setName(name);
    if (legend) legend->addItem(new QCPPlottableLegendItem(legend, g));
    return g;
}

QCPLegend* legendFor(QCPAxisRect* rect, Qt::Alignment corner = Qt::AlignBottom | Qt::AlignRight) {
    auto* legend = new QCPLegend;
    rect->insetLayout()->addElement(legend, corner);
    legend->setLayer("legend");
    legend->setFont(QFont("sans", 9));
    return legend;
}

}  // namespace

bool saveEvaluationPlot(const EvaluationReport& report, const QString& path, int width, int height) {
    QCustomPlot plot;
    plot.resize(width, height);
    plot.plotLayout()->clear();
    plot.setAutoAddPlottableToLegend(false);
    double maxScale = 0.4;
    for (const SettingSummary& s : report.summary) maxScale = std::max(maxScale, s.scale);
    QVector<double> x, dis, lo, hi, dis2, lo2, hi2, match, reid, reidAny, match2, reid2, reidAny2, detected;
    QVector<double> cropPsnr, photoPsnr, cropSsim, photoSsim, age, gender;
    for (const SettingSummary& s : report.summary) {
        x << s.scale;
        // Each recogniser's distance over its own match threshold: 1 is the match line for both.
        dis << s.meanDis / kMatchThreshold;
        lo << (s.meanDis - s.sdDis) / kMatchThreshold;
        hi << (s.meanDis + s.sdDis) / kMatchThreshold;
        dis2 << s.meanDis2 / kFaceResThreshold;
        lo2 << (s.meanDis2 - s.sdDis2) / kFaceResThreshold;
        hi2 << (s.meanDis2 + s.sdDis2) / kFaceResThreshold;
        match << 100 * s.matchRate;
        reid << 100 * s.reidRate;
        reidAny << 100 * s.reidAnyRate;
        match2 << 100 * s.match2Rate;
        reid2 << 100 * s.reid2Rate;
        reidAny2 << 100 * s.reid2AnyRate;
        detected << 100 * s.detectedRate;
        cropPsnr << s.cropPsnr;
        photoPsnr << s.photoPsnr;
        cropSsim << s.cropSsim;
        photoSsim << s.photoSsim;
        age << s.ageChange;
        gender << 100 * s.genderKeptRate;
    }
    auto band = [&](QCPAxisRect* rect, const QVector<double>& low, const QVector<double>& high, const QColor& colour) {
        QCPGraph* upper = addLine(plot, rect, x, high, QColor(0, 0, 0, 0), "", nullptr);
        QCPGraph* lower = addLine(plot, rect, x, low, QColor(0, 0, 0, 0), "", nullptr);
        upper->setScatterStyle(QCPScatterStyle::ssNone);
        lower->setScatterStyle(QCPScatterStyle::ssNone);
        upper->setBrush(colour);
        upper->setChannelFillGraph(lower);
    };
    auto dashed = [](QCPGraph* g) {
        QPen pen = g->pen();
        pen.setStyle(Qt::DashLine);
        g->setPen(pen);
        return g;
    };

    QCPAxisRect* disRect = addPanel(plot, 0, 0, "Identity distance to the original (DIS / threshold)",
                                    "distance / match threshold", maxScale);
    QCPLegend* disLegend = legendFor(disRect);
    band(disRect, lo, hi, QColor(120, 160, 220, 60));
    band(disRect, lo2, hi2, QColor(100, 190, 130, 60));
    addLine(plot, disRect, x, dis, QColor(30, 90, 180), "dlib ResNet DIS / 0.6 (band: ± 1 sd)", disLegend);
    addLine(plot, disRect, x, dis2, QColor(30, 140, 80), QString("FaceRes DIS2 / %1 (band: ± 1 sd)").arg(kFaceResThreshold, 0, 'f', 4),
            disLegend);
    QCPGraph* threshold = addLine(plot, disRect, {0, maxScale + 0.02}, {1, 1}, QColor(200, 40, 40), "match line", disLegend);
    threshold->setPen(QPen(QColor(200, 40, 40), 2, Qt::DashLine));
    threshold->setScatterStyle(QCPScatterStyle::ssNone);
    disRect->axis(QCPAxis::atLeft)->setRange(0, 2.2);

    QCPAxisRect* rateRect = addPanel(plot, 0, 1, "Recognition rates (solid: dlib ResNet, dashed: FaceRes)", "% of photos / pairs", maxScale);
    // The rates fill the panel from 0 to 100 %: their legend gets a band of its own above
    // 100 %, in two columns, so it covers no curve.
    QCPLegend* rateLegend = legendFor(rateRect, Qt::AlignTop | Qt::AlignRight);
    rateLegend->setWrap(4);
    rateLegend->setFillOrder(QCPLayoutGrid::foRowsFirst);
    addLine(plot, rateRect, x, match, QColor(200, 40, 40), "match to original", rateLegend);
    addLine(plot, rateRect, x, reid, QColor(230, 140, 20), "re-identified (pairs)", rateLegend);
    addLine(plot, rateRect, x, reidAny, QColor(150, 90, 20), "re-identified (any other photo)", rateLegend);
    dashed(addLine(plot, rateRect, x, match2, QColor(200, 40, 40), "FaceRes: match to original", rateLegend));
    dashed(addLine(plot, rateRect, x, reid2, QColor(230, 140, 20), "FaceRes: re-identified (pairs)", rateLegend));
    dashed(addLine(plot, rateRect, x, reidAny2, QColor(150, 90, 20), "FaceRes: re-identified (any)", rateLegend));
    addLine(plot, rateRect, x, detected, QColor(40, 150, 70), "face still detected", rateLegend);
    QSharedPointer<QCPAxisTickerText> percent(new QCPAxisTickerText);
    for (int v = 0; v <= 100; v += 20) percent->addTick(v, QString::number(v));
    rateRect->axis(QCPAxis::atLeft)->setTicker(percent);
    rateRect->axis(QCPAxis::atLeft)->setRange(0, 150);

    QCPAxisRect* psnrRect = addPanel(plot, 1, 0, "PSNR", "dB", maxScale);
    QCPLegend* psnrLegend = legendFor(psnrRect, Qt::AlignTop | Qt::AlignRight);
    addLine(plot, psnrRect, x, cropPsnr, QColor(30, 90, 180), "aligned face crop", psnrLegend);
    addLine(plot, psnrRect, x, photoPsnr, QColor(120, 120, 120), "whole photo", psnrLegend);
    psnrRect->axis(QCPAxis::atLeft)->rescale();
    psnrRect->axis(QCPAxis::atLeft)->setRange(std::max(0.0, psnrRect->axis(QCPAxis::atLeft)->range().lower - 2),
                                             psnrRect->axis(QCPAxis::atLeft)->range().upper + 2);

    QCPAxisRect* ssimRect = addPanel(plot, 1, 1, "SSIM", "SSIM", maxScale);
    QCPLegend* ssimLegend = legendFor(ssimRect, Qt::AlignTop | Qt::AlignRight);
    addLine(plot, ssimRect, x, cropSsim, QColor(30, 90, 180), "aligned face crop", ssimLegend);
    addLine(plot, ssimRect, x, photoSsim, QColor(120, 120, 120), "whole photo", ssimLegend);
    ssimRect->axis(QCPAxis::atLeft)->setRange(0.5, 1.0);

    QCPAxisRect* ageRect = addPanel(plot, 2, 0, "Apparent age change (FaceRes)", "mean |Δ age|, years", maxScale);
    QCPLegend* ageLegend = legendFor(ageRect, Qt::AlignTop | Qt::AlignLeft);
    addLine(plot, ageRect, x, age, QColor(130, 60, 160), "original vs output", ageLegend);
    ageRect->axis(QCPAxis::atLeft)->rescale();
    ageRect->axis(QCPAxis::atLeft)->setRange(0, std::max(5.0, ageRect->axis(QCPAxis::atLeft)->range().upper + 1));

    QCPAxisRect* genderRect = addPanel(plot, 2, 1, "Gender kept (FaceRes)", "% same side of 0.5", maxScale);
    QCPLegend* genderLegend = legendFor(genderRect, Qt::AlignBottom | Qt::AlignLeft);
    addLine(plot, genderRect, x, gender, QColor(130, 60, 160), "original vs output", genderLegend);
    genderRect->axis(QCPAxis::atLeft)->setRange(50, 102);

    return plot.savePng(path, width, height);
}

}  // namespace ideu::ui
