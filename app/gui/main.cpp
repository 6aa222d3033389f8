// ideudemon: the desktop editor.
//   ideudemon [PHOTO]
//   ideudemon --screenshot FILE PHOTO   render the window with PHOTO processed into FILE (PNG)
#include "main_window.h"

#include "image_view.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QTimer>

#include <QElapsedTimer>
#include <QSlider>

#include <algorithm>
#include <cstdio>
#include <vector>

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    QApplication::setApplicationName("IDEudemon");
    QApplication::setOrganizationName("IDEudemon");
    QApplication::setApplicationVersion(IDEU_VERSION);
    QApplication::setWindowIcon(QIcon(":/ideudemon.png"));

    QCommandLineParser parser;
    parser.setApplicationDescription("Face de-identification editor.");
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument("PHOTO", "Photo to open.", "[PHOTO]");
    parser.addOption({"screenshot", "Open PHOTO, wait for its result and the privacy plot, save the window to FILE, quit.", "FILE"});
    parser.addOption({"bench-slider", "Open PHOTO, move the scale slider N times and print the median time from a move "
                                      "to the updated final image on screen.", "N"});
    parser.process(app);

    ideu::ui::MainWindow window;
    window.show();
    const QStringList photos = parser.positionalArguments();
    if (parser.isSet("screenshot")) {
        if (photos.isEmpty()) {
            std::fprintf(stderr, "ideudemon: --screenshot needs a PHOTO\n");
            return 2;
        }
        const QString file = parser.value("screenshot");
        auto save = [&window, file] {
            const bool ok = window.grab().save(file);
            std::printf("%s %s\n", ok ? "saved" : "could not save", qPrintable(file));
            QApplication::exit(ok ? 0 : 1);
        };
        // Wait for the result and the privacy sweep (or 60 s at most).
        QObject::connect(window.controller(), &ideu::ui::PipelineController::sweepFinished, &window, [save] {
            QTimer::singleShot(1500, save);  // the live distance arrives shortly after
        });
        QObject::connect(window.controller(), &ideu::ui::PipelineController::failed, &window, [save](const QString&) { save(); });
        QTimer::singleShot(60000, save);
        window.resize(1600, 1000);
    }
    if (parser.isSet("bench-slider")) {
        if (photos.isEmpty()) {
            std::fprintf(stderr, "ideudemon: --bench-slider needs a PHOTO\n");
            return 2;
        }
        const int moves = std::max(1, parser.value("bench-slider").toInt());
        auto* timer = new QElapsedTimer;
        auto* times = new std::vector<double>;
        auto* step = new int(-1);
        // The longest time the GUI thread's event loop did not turn while the bench ran: what a
        // user would feel as a freeze (the pipeline itself runs on its worker thread).
        auto* loopClock = new QElapsedTimer;
        auto* longestGap = new qint64(0);
        auto* ticker = new QTimer(&window);
        ticker->setInterval(1);
        QObject::connect(ticker, &QTimer::timeout, [loopClock, longestGap] {
            *longestGap = std::max(*longestGap, loopClock->restart());
        });
        // One move at a time: set the slider, wait until its result is on screen, repeat.
        auto next = [&window, timer, times, step, moves, loopClock, longestGap, ticker] {
            if (++*step >= moves) {
                std::sort(times->begin(), times->end());
                const double median = times->empty() ? 0 : (*times)[times->size() / 2];
                std::printf("slider move -> updated final image: median %.1f ms over %zu moves (min %.1f, max %.1f)\n",
                            median, times->size(), times->front(), times->back());
                std::printf("longest event-loop gap on the GUI thread during the moves: %lld ms\n", static_cast<long long>(*longestGap));
                QApplication::exit(0);
                return;
            }
            if (*step == 0) {  // the first move: the photo is open and shown, start watching the loop
                loopClock->start();
                ticker->start();
            }
            const int value = 10 + (*step * 7) % 31;  // 0.10 .. 0.40, always a change
            timer->restart();
            window.scaleSlider()->setValue(value == window.scaleSlider()->value() ? value + 1 : value);
        };
        QObject::connect(&window, &ideu::ui::MainWindow::resultShown, &window, [&window, timer, times, step, next](quint64 generation) {
            if (generation != window.controller()->request().generation) return;
            if (*step >= 0) times->push_back(double(timer->nsecsElapsed()) / 1e6);
            QTimer::singleShot(50, next);
        });
    }
    if (!photos.isEmpty()) window.openPhoto(photos.front());
    return app.exec();
}
