#pragma once
// Export options: file (PNG/JPEG/WebP), quality, stage images, sidecar JSON.
#include "pipeline_controller.h"

#include <QDialog>

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;

namespace ideu::ui {

class ExportDialog : public QDialog {
    Q_OBJECT
public:
    ExportDialog(const QString& suggestedPath, int quality, QWidget* parent = nullptr);
    ExportOptions options() const;

private:
    void browse();
    void syncFormat();
    QLineEdit* path_ = nullptr;
    QComboBox* format_ = nullptr;
    QSpinBox* quality_ = nullptr;
    QCheckBox* stages_ = nullptr;
    QCheckBox* sidecar_ = nullptr;
};

// Batch: a folder in, a folder out, the current settings, progress and cancel.
class BatchDialog : public QDialog {
    Q_OBJECT
public:
    BatchDialog(PipelineController* controller, const QString& folder, QWidget* parent = nullptr);

private:
    void start();
    PipelineController* controller_;
    QLineEdit* input_ = nullptr;
    QLineEdit* output_ = nullptr;
    QProgressBar* progress_ = nullptr;
    QLabel* status_ = nullptr;
    QPushButton* startButton_ = nullptr;
    QPushButton* cancelButton_ = nullptr;
    bool running_ = false;
};

}  // namespace ideu::ui
