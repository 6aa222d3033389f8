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
    explicit ImageView(QWidget* parent = nullptr);
    void setImage(const QImage& image);
    // Lays regions over the image shown, replacing earlier ones (only they are converted and
    // repainted); setImage removes them.
    void setPatches(const QVector<QPair<QPoint, QImage>>& patches);
    // What the view shows: the image with the patches laid over it.
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
    QVector<QGraphicsPixmapItem*> patches_;  // children of item_
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
