#pragma once
#include <QMainWindow>

namespace ideu::ui {

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
};

}  // namespace ideu::ui
