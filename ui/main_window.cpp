#include "main_window.h"

#include <QLabel>

namespace ideu::ui {

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
    setWindowTitle("IDEudemon");
    setCentralWidget(new QLabel("Open a photo to de-identify its faces."));
}

}  // namespace ideu::ui
