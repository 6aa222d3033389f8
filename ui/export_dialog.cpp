#include "export_dialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

namespace ideu::ui {

ExportDialog::ExportDialog(const QString& suggestedPath, int quality, QWidget* parent) : QDialog(parent) {
    setWindowTitle(tr("Export anonymized photo"));
    auto* form = new QFormLayout;
    auto* pathRow = new QHBoxLayout;
    path_ = new QLineEdit(suggestedPath);
    auto* browse = new QPushButton(tr("Browse…"));
    pathRow->addWidget(path_, 1);
    pathRow->addWidget(browse);
    form->addRow(tr("File:"), pathRow);
    format_ = new QComboBox;
    format_->addItems({"PNG", "JPEG", "WebP"});
    form->addRow(tr("Format:"), format_);
    quality_ = new QSpinBox;
    quality_->setRange(1, 100);
    quality_->setValue(quality);
    quality_->setSuffix(" %");
    form->addRow(tr("Quality (JPEG, WebP):"), quality_);
    stages_ = new QCheckBox(tr("Also write every stage image of each face"));
    sidecar_ = new QCheckBox(tr("Write a sidecar JSON (settings, face boxes, model hashes)"));
    form->addRow(stages_);
    form->addRow(sidecar_);
    auto* note = new QLabel(tr("The export carries no metadata of the original (no EXIF, GPS, XMP or thumbnail)."));
    note->setWordWrap(true);
    note->setStyleSheet("color: gray");
    form->addRow(note);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Save | QDialogButtonBox::Cancel);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(buttons);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(browse, &QPushButton::clicked, this, &ExportDialog::browse);
    connect(format_, &QComboBox::currentIndexChanged, this, [this](int index) {
        const QString ext = QStringList{"png", "jpg", "webp"}.value(index);
        QFileInfo info(path_->text());
        path_->setText(info.dir().filePath(info.completeBaseName() + "." + ext));
    });
    connect(path_, &QLineEdit::textChanged, this, &ExportDialog::syncFormat);
    syncFormat();
}

void ExportDialog::browse() {
    const QString file = QFileDialog::getSaveFileName(this, tr("Export"), path_->text(),
                                                      tr("PNG (*.png);;JPEG (*.jpg *.jpeg);;WebP (*.webp)"));
    if (!file.isEmpty()) path_->setText(file);
}

void ExportDialog::syncFormat() {
    const QString ext = QFileInfo(path_->text()).suffix().toLower();
    const int index = ext == "jpg" || ext == "jpeg" ? 1 : ext == "webp" ? 2 : 0;
    QSignalBlocker block(format_);
    format_->setCurrentIndex(index);
    quality_->setEnabled(index != 0);
}

ExportOptions ExportDialog::options() const {
    ExportOptions o;
    o.path = path_->text();
    if (QFileInfo(o.path).suffix().isEmpty()) o.path += ".png";
    o.quality = quality_->value();
    o.stageImages = stages_->isChecked();
    o.sidecar = sidecar_->isChecked();
    return o;
}

BatchDialog::BatchDialog(PipelineController* controller, const QString& folder, QWidget* parent)
    : QDialog(parent), controller_(controller) {
    setWindowTitle(tr("Anonymize a folder"));
    auto* form = new QFormLayout;
    auto folderRow = [this](QLineEdit*& edit, const QString& text) {
        auto* row = new QHBoxLayout;
        edit = new QLineEdit(text);
        auto* button = new QPushButton(tr("Browse…"));
        row->addWidget(edit, 1);
        row->addWidget(button);
        QLineEdit* target = edit;
        connect(button, &QPushButton::clicked, this, [this, target] {
            const QString dir = QFileDialog::getExistingDirectory(this, tr("Choose a folder"), target->text());
            if (!dir.isEmpty()) target->setText(dir);
        });
        return row;
    };
    form->addRow(tr("Photos from:"), folderRow(input_, folder));
    form->addRow(tr("Write to:"), folderRow(output_, folder.isEmpty() ? QString() : folder + "_anonymized"));
    const PipelineRequest& r = controller->request();
    form->addRow(tr("Settings:"), new QLabel(tr("noise scale %1, seed %2 (as in the editor)").arg(r.scale, 0, 'f', 2).arg(r.seed)));
    progress_ = new QProgressBar;
    progress_->setRange(0, 1);
    progress_->setValue(0);
    status_ = new QLabel;
    startButton_ = new QPushButton(tr("Start"));
    cancelButton_ = new QPushButton(tr("Close"));
    auto* buttons = new QHBoxLayout;
    buttons->addStretch();
    buttons->addWidget(startButton_);
    buttons->addWidget(cancelButton_);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(progress_);
    layout->addWidget(status_);
    layout->addLayout(buttons);
    connect(startButton_, &QPushButton::clicked, this, &BatchDialog::start);
    connect(cancelButton_, &QPushButton::clicked, this, [this] {
        if (running_) {
            controller_->cancelBatch();
            status_->setText(tr("Cancelling…"));
        } else {
            reject();
        }
    });
    connect(controller_, &PipelineController::batchProgress, this, [this](int done, int total, const QString& file) {
        progress_->setRange(0, total);
        progress_->setValue(done);
        status_->setText(tr("%1 of %2: %3").arg(done).arg(total).arg(file));
    });
    connect(controller_, &PipelineController::batchFinished, this, [this](int written, int noFace, int failed, int blurred, int cautioned, bool cancelled) {
        running_ = false;
        startButton_->setEnabled(true);
        cancelButton_->setText(tr("Close"));
        status_->setText((cancelled ? tr("Cancelled. ") : tr("Done. ")) +
                         tr("%1 written, %2 without a face (not written), %3 failed.").arg(written).arg(noFace).arg(failed) +
                         (blurred ? tr(" %1 face(s) could only be blurred (turned or not fitted), not anonymized.").arg(blurred) : QString()) +
                         (cautioned ? tr(" %1 face(s) anonymized with a caution (a child's: the new face looks older and may "
                                         "still be linked).")
                                          .arg(cautioned)
                                    : QString()));
    });
}

void BatchDialog::start() {
    if (input_->text().isEmpty() || output_->text().isEmpty()) {
        status_->setText(tr("Choose both folders."));
        return;
    }
    running_ = true;
    startButton_->setEnabled(false);
    cancelButton_->setText(tr("Cancel"));
    status_->setText(tr("Starting…"));
    controller_->startBatch(input_->text(), output_->text());
}

}  // namespace ideu::ui
