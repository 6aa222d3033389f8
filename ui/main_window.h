#pragma once
// The editor window: the photo (before/after), the face list, the stage panels of the
// selected face (dock widgets: show, hide, rearrange; zoom and pan together), the noise
// scale and seed controls, the privacy plot, export and batch.
#include "pipeline_controller.h"

#include <QMainWindow>
#include <QMap>
#include <QPointer>

class QCheckBox;
class QComboBox;
class QDockWidget;
class QDoubleSpinBox;
class QLabel;
class QListWidget;
class QListWidgetItem;
class QMenu;
class QMessageBox;
class QProgressBar;
class QPushButton;
class QSlider;
class QSpinBox;
class QTimer;

namespace ideu::ui {

class ImageView;
class PrivacyPlotWidget;
class ViewSync;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    PipelineController* controller() const { return controller_; }
    QListWidget* faceList() const { return faceList_; }
    ImageView* photoView() const { return photoView_; }
    ImageView* stageView(const QString& key) const { return stageViews_.value(key); }
    QSlider* scaleSlider() const { return scaleSlider_; }
    QDoubleSpinBox* scaleSpin() const { return scaleSpin_; }
    QSpinBox* seedSpin() const { return seedSpin_; }
    QComboBox* restorerBox() const { return restorerBox_; }
    QProgressBar* busyIndicator() const { return statusBusy_; }
    QLabel* statusStage() const { return statusStage_; }
    // Work shows as busy once it has lasted this long (tests set it).
    void setBusyDelay(int milliseconds);
    const PipelineResult& lastResult() const { return lastResult_; }
    QString lastError() const { return lastError_; }
    static QStringList stageKeys();

public slots:
    void openPhoto(const QString& path);
    void exportTo(const ExportOptions& options);
    void showBeforeAfter(bool original);

signals:
    void resultShown(quint64 generation);
    void exportFinished(const QString& path);

protected:
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;
    void closeEvent(QCloseEvent* event) override;

private slots:
    void chooseAndOpen();
    void chooseAndExport();
    void openBatch();
    void newSeed();
    void selectRelativeFace(int step);
    void onPhotoOpened(const QString& path, QSize size, const QVector<ideu::ui::FaceSummary>& faces);
    void onResult(const ideu::ui::PipelineResult& result);
    void onFailed(const QString& message);
    void onBusy(const QString& stage);

private:
    void showLayers();  // the preview's layers over the original
    void showTiming(const QString& text);
    void buildMenus();
    void buildDocks();
    QWidget* buildBackendBox();
    void applyBackends();
    void addRecent(const QString& path);
    void rebuildRecentMenu();
    void restoreSettings();
    QString lastFolder() const;
    void setLastFolder(const QString& folder);

    PipelineController* controller_ = nullptr;
    ImageView* photoView_ = nullptr;
    QListWidget* faceList_ = nullptr;
    QMap<QString, ImageView*> stageViews_;
    ViewSync* sync_ = nullptr;
    QSlider* scaleSlider_ = nullptr;
    QDoubleSpinBox* scaleSpin_ = nullptr;
    QSpinBox* seedSpin_ = nullptr;
    QSlider* seedSlider_ = nullptr;
    QCheckBox* beforeAfter_ = nullptr;
    QComboBox* parserBox_ = nullptr;
    QComboBox* restorerBox_ = nullptr;
    QComboBox* headBox_ = nullptr;
    QPushButton* fitHeadButton_ = nullptr;
    QLabel* backendNote_ = nullptr;
    QMap<QString, QDockWidget*> stageDocks_;
    PrivacyPlotWidget* privacyPlot_ = nullptr;
    QLabel* statusStage_ = nullptr;
    QLabel* statusTiming_ = nullptr;
    QProgressBar* statusBusy_ = nullptr;
    QTimer* busyDelay_ = nullptr;
    QString photoSummary_;  // "photo: size, faces", the status while no work is shown
    QString pendingStage_;  // the stage the busy bar shows with once the delay has passed
    QMenu* recentMenu_ = nullptr;
    QPointer<QMessageBox> errorBox_;
    QImage original_;
    PipelineResult lastResult_;
    QString lastError_;
    bool updatingFaces_ = false;
};

}  // namespace ideu::ui
