#include "image_view.h"

#include <QGraphicsPixmapItem>
#include <QPainter>
#include <QScrollBar>
#include <QWheelEvent>

namespace ideu::ui {

ImageView::ImageView(QWidget* parent) : QGraphicsView(parent) {
    setScene(new QGraphicsScene(this));
    item_ = scene()->addPixmap(QPixmap());
    item_->setTransformationMode(Qt::SmoothTransformation);
    setDragMode(QGraphicsView::ScrollHandDrag);
    setTransformationAnchor(QGraphicsView::AnchorUnderMouse);
    setResizeAnchor(QGraphicsView::AnchorViewCenter);
    setRenderHint(QPainter::SmoothPixmapTransform);
    setBackgroundBrush(QColor(45, 45, 48));
    setFrameShape(QFrame::NoFrame);
    setMinimumSize(120, 120);
}

void ImageView::setImage(const QImage& image) {
    const bool sizeChanged = image.size() != image_.size();
    for (QGraphicsPixmapItem* layer : layers_) delete layer;
    layers_.clear();
    // The same image again (the fit's stage panels come with every result): nothing to do.
    if (!sizeChanged && image.cacheKey() == image_.cacheKey() && !image.isNull()) return;
    image_ = image;
    item_->setPixmap(QPixmap::fromImage(image));
    scene()->setSceneRect(QRectF(QPointF(0, 0), QSizeF(image.size())));
    // An image of the same size keeps the view's transform (fitted or not): fitting again would
    // re-set it, scroll, and move every synced view, for every stage of every slider move.
    if (sizeChanged) zoomToFit();
    viewport()->update();
}

QImage ImageView::image() const {
    if (layers_.isEmpty()) return image_;
    QImage shown = image_.convertToFormat(QImage::Format_RGB888);
    QPainter painter(&shown);
    painter.setRenderHint(QPainter::SmoothPixmapTransform);
    for (const QGraphicsPixmapItem* layer : layers_)
        painter.drawPixmap(QRectF(layer->pos(), QSizeF(layer->pixmap().size()) * layer->scale()), layer->pixmap(),
                           QRectF(layer->pixmap().rect()));
    return shown;
}

void ImageView::setLayers(const QVector<Layer>& layers) {
    while (layers_.size() > layers.size()) delete layers_.takeLast();
    while (layers_.size() < layers.size()) {
        auto* layer = new QGraphicsPixmapItem(item_);
        layer->setTransformationMode(Qt::SmoothTransformation);
        layers_.push_back(layer);
    }
    for (int i = 0; i < layers.size(); ++i) {
        // The layer's pixel u covers the image's [u, u + 1) / scale.
        layers_[i]->setScale(1 / layers[i].scale);
        layers_[i]->setPos(QPointF(layers[i].origin) / layers[i].scale);
        layers_[i]->setPixmap(QPixmap::fromImage(layers[i].image));
    }
}

void ImageView::setPlaceholder(const QString& text) {
    placeholder_ = text;
    viewport()->update();
}

void ImageView::setSync(ViewSync* sync) { sync_ = sync; }

void ImageView::zoomIn() {
    fit_ = false;
    scale(1.25, 1.25);
    announce();
}

void ImageView::zoomOut() {
    fit_ = false;
    scale(0.8, 0.8);
    announce();
}

void ImageView::zoomToFit() {
    fit_ = true;
    if (!image_.isNull()) fitInView(item_, Qt::KeepAspectRatio);
    announce();
}

void ImageView::zoomActualSize() {
    fit_ = false;
    setTransform(QTransform());
    announce();
}

void ImageView::wheelEvent(QWheelEvent* event) {
    if (event->angleDelta().y() == 0) return;
    fit_ = false;
    const double factor = event->angleDelta().y() > 0 ? 1.15 : 1 / 1.15;
    scale(factor, factor);
    announce();
}

void ImageView::resizeEvent(QResizeEvent* event) {
    QGraphicsView::resizeEvent(event);
    if (fit_ && !image_.isNull()) fitInView(item_, Qt::KeepAspectRatio);
}

void ImageView::scrollContentsBy(int dx, int dy) {
    QGraphicsView::scrollContentsBy(dx, dy);
    announce();
}

void ImageView::drawForeground(QPainter* painter, const QRectF& rect) {
    QGraphicsView::drawForeground(painter, rect);
    if (!image_.isNull() || placeholder_.isEmpty()) return;
    painter->save();
    painter->resetTransform();
    painter->setPen(QColor(190, 190, 190));
    painter->drawText(viewport()->rect(), Qt::AlignCenter | Qt::TextWordWrap, placeholder_);
    painter->restore();
}

void ImageView::applyView(double s, QPointF centre) {
    applying_ = true;
    setTransform(QTransform::fromScale(s, s));
    centerOn(centre);
    applying_ = false;
}

void ImageView::announce() {
    if (applying_) return;
    const double s = transform().m11();
    const QPointF centre = mapToScene(viewport()->rect().center());
    emit viewChanged(s, centre);
    if (sync_) sync_->broadcast(this, s, centre);
}

void ViewSync::add(ImageView* view) {
    views_.append(view);
    view->setSync(this);
}

void ViewSync::broadcast(ImageView* from, double scale, QPointF centre) {
    for (const QPointer<ImageView>& v : views_)
        if (v && v != from) {
            v->fit_ = from->fit_;
            v->applyView(scale, centre);
        }
}

}  // namespace ideu::ui
