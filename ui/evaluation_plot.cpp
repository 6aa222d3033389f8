#include "evaluation_plot.h"

#include <qcustomplot.h>

namespace ideu::ui {
namespace {

QCPAxisRect* addPanel(QCustomPlot& plot, int row, int column, const QString& title, const QString& yLabel) {
    auto* rect = new QCPAxisRect(&plot);
    plot.plotLayout()->addElement(row * 2, column, new QCPTextElement(&plot, title, QFont("sans", 11, QFont::Bold)));
    plot.plotLayout()->addElement(row * 2 + 1, column, rect);
    rect->axis(QCPAxis::atBottom)->setLabel("noise scale");
    rect->axis(QCPAxis::atLeft)->setLabel(yLabel);
    rect->axis(QCPAxis::atBottom)->setRange(0, 0.42);
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
    QVector<double> x, dis, lo, hi, match, reid, reidAny, detected, cropPsnr, photoPsnr, cropSsim, photoSsim;
    for (const SettingSummary& s : report.summary) {
        x << s.scale;
        dis << s.meanDis;
        lo << s.meanDis - s.sdDis;
        hi << s.meanDis + s.sdDis;
        match << 100 * s.matchRate;
        reid << 100 * s.reidRate;
        reidAny << 100 * s.reidAnyRate;
        detected << 100 * s.detectedRate;
        cropPsnr << s.cropPsnr;
        photoPsnr << s.photoPsnr;
        cropSsim << s.cropSsim;
        photoSsim << s.photoSsim;
    }

    QCPAxisRect* disRect = addPanel(plot, 0, 0, "Identity distance to the original (DIS)", "recogniser distance");
    QCPLegend* disLegend = legendFor(disRect);
    QCPGraph* upper = addLine(plot, disRect, x, hi, QColor(120, 160, 220, 0), "", nullptr);
    QCPGraph* lower = addLine(plot, disRect, x, lo, QColor(120, 160, 220, 0), "", nullptr);
    upper->setScatterStyle(QCPScatterStyle::ssNone);
    lower->setScatterStyle(QCPScatterStyle::ssNone);
    upper->setBrush(QColor(120, 160, 220, 70));
    upper->setChannelFillGraph(lower);
    addLine(plot, disRect, x, dis, QColor(30, 90, 180), "mean DIS (band: ± 1 sd)", disLegend);
    QCPGraph* threshold = addLine(plot, disRect, {0, 0.42}, {0.6, 0.6}, QColor(200, 40, 40), "match threshold 0.6", disLegend);
    threshold->setPen(QPen(QColor(200, 40, 40), 2, Qt::DashLine));
    threshold->setScatterStyle(QCPScatterStyle::ssNone);
    disRect->axis(QCPAxis::atLeft)->setRange(0, 1.1);

    QCPAxisRect* rateRect = addPanel(plot, 0, 1, "Recognition rates", "% of photos / pairs");
    QCPLegend* rateLegend = legendFor(rateRect, Qt::AlignBottom | Qt::AlignLeft);
    addLine(plot, rateRect, x, match, QColor(200, 40, 40), "match to original", rateLegend);
    addLine(plot, rateRect, x, reid, QColor(230, 140, 20), "re-identified (pairs)", rateLegend);
    addLine(plot, rateRect, x, reidAny, QColor(150, 90, 20), "re-identified (any other photo)", rateLegend);
    addLine(plot, rateRect, x, detected, QColor(40, 150, 70), "face still detected", rateLegend);
    rateRect->axis(QCPAxis::atLeft)->setRange(0, 105);

    QCPAxisRect* psnrRect = addPanel(plot, 1, 0, "PSNR", "dB");
    QCPLegend* psnrLegend = legendFor(psnrRect, Qt::AlignTop | Qt::AlignRight);
    addLine(plot, psnrRect, x, cropPsnr, QColor(30, 90, 180), "aligned face crop", psnrLegend);
    addLine(plot, psnrRect, x, photoPsnr, QColor(120, 120, 120), "whole photo", psnrLegend);
    psnrRect->axis(QCPAxis::atLeft)->rescale();
    psnrRect->axis(QCPAxis::atLeft)->setRange(std::max(0.0, psnrRect->axis(QCPAxis::atLeft)->range().lower - 2),
                                             psnrRect->axis(QCPAxis::atLeft)->range().upper + 2);

    QCPAxisRect* ssimRect = addPanel(plot, 1, 1, "SSIM", "SSIM");
    QCPLegend* ssimLegend = legendFor(ssimRect, Qt::AlignTop | Qt::AlignRight);
    addLine(plot, ssimRect, x, cropSsim, QColor(30, 90, 180), "aligned face crop", ssimLegend);
    addLine(plot, ssimRect, x, photoSsim, QColor(120, 120, 120), "whole photo", ssimLegend);
    ssimRect->axis(QCPAxis::atLeft)->setRange(0.5, 1.0);

    return plot.savePng(path, width, height);
}

}  // namespace ideu::ui
