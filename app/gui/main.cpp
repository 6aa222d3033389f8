// ideudemon: the desktop editor.
#include "main_window.h"

#include <QApplication>

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    QApplication::setApplicationName("IDEudemon");
    QApplication::setOrganizationName("IDEudemon");
    QApplication::setApplicationVersion(IDEU_VERSION);
    ideu::ui::MainWindow window;
    window.show();
    return app.exec();
}
