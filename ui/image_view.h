#pragma once
// A zoomable, pannable image panel (wheel to zoom, drag to pan). Views in the same
// ViewSync group zoom and pan together.
#include <QGraphicsView>
#include <QImage>
#include <QPointer>

class QGraphicsPixmapItem;

namespace ideu::ui {

class ViewSync;

class ImageView : public QGraphicsView {
    Q_OBJECT
public:
    // An image laid over the one shown, with `scale` of its pixels per image pixel (≤ 1: a
    // layer made for a zoomed-out view has fewer pixels than the region it covers); `origin`
    // is its top-left pixel on that scaled grid. Its alpha shows the image through.
    struct Layer {
        QPoint origin;
        QImage image;
        double scale = 1;
    };

    explicit ImageView(QWidget* parent = nullptr);
    // Shows `image` (and removes the layers). An image in the pixmap's own format (RGB32,
    // as toQImage makes them) is shown without a copy.
    void setImage(const QImage& image);
    // Lays layers over the image shown, replacing earlier ones (only they are converted and
    // repainted); setImage removes them.
    void setLayers(const QVector<Layer>& layers);
    // What the view shows at the image's resolution: the image with the layers over it.
    QImage image() const;
    void setPlaceholder(const QString& text);
    void setSync(ViewSync* sync);

public slots:
    void zoomIn();
    void zoomOut();
    void zoomToFit();
    void zoomActualSize();

signals:
    void viewChanged(double scale, QPointF centre);

protected:
    void wheelEvent(QWheelEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;
    void scrollContentsBy(int dx, int dy) override;
    void drawForeground(QPainter* painter, const QRectF& rect) override;

private:
    friend class ViewSync;
    void applyView(double scale, QPointF centre);
    void announce();
    QGraphicsPixmapItem* item_ = nullptr;
    QVector<QGraphicsPixmapItem*> layers_;  // children of item_
    QImage image_;
    QString placeholder_;
    bool fit_ = true;
    bool applying_ = false;
    QPointer<ViewSync> sync_;
};

// Keeps the zoom factor and centre of several views equal (the stage panels all show
// 512x512 crops of the same face).
class ViewSync : public QObject {
    Q_OBJECT
public:
    using QObject::QObject;
    void add(ImageView* view);
    void broadcast(ImageView* from, double scale, QPointF centre);

private:
    QList<QPointer<ImageView>> views_;
};

}  // namespace ideu::ui
