// ideudemon: the desktop editor.
//   ideudemon [PHOTO]
//   ideudemon --screenshot FILE PHOTO   render the window with PHOTO processed into FILE (PNG)
#include "main_window.h"

#include "image_view.h"

#include "common/runtime.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QTimer>

#include <QElapsedTimer>
#include <QSlider>

#ifdef __linux__
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>
#endif

#include <algorithm>
#include <ctime>
#include <memory>
#include <cstdio>
#include <vector>

namespace {
// The calling thread's CPU time: what it worked, not what it waited or was not run.
double threadCpuMs() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return double(t.tv_sec) * 1e3 + double(t.tv_nsec) / 1e6;
}
// How long the calling thread has waited, ready to run, for a CPU (Linux's schedstat: its
// second field, in ns); -1 where the kernel does not say. A gap the thread neither worked nor
// waited for a CPU in, it was blocked or asleep.
double threadRunQueueWaitMs() {
#ifdef __linux__
    // Opened once (it is read every millisecond): always called on the same (GUI) thread.
    static const int file = ::open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
    char text[128];
    const ssize_t length = file < 0 ? -1 : ::pread(file, text, sizeof text - 1, 0);
    if (length > 0) {
        text[length] = 0;
        unsigned long long run = 0, wait = 0;
        if (std::sscanf(text, "%llu %llu", &run, &wait) == 2) return double(wait) / 1e6;
    }
#endif
    return -1;
}
}  // namespace

int main(int argc, char** argv) {
    ideu::configureAllocator();
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
    parser.addOption({"bench-slider", "Open PHOTO, drag the scale slider through N values and print the median time from a "
                                      "move to its preview on screen, from the release to the full result, and the longest "
                                      "event-loop gap on the GUI thread.", "N"});
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
        // A drag: the slider is pressed, moved N times (each move waits until its preview is on
        // screen), then released (and the full result waited for).
        struct Bench {
            int moves = 0, step = -1;
            bool released = false;
            QElapsedTimer clock, loopClock;
            std::vector<double> moveMs, workerMs;
            qint64 longestGap = 0;  // the longest time the GUI thread's event loop did not turn
            int turns = 0, gapsOverFrame = 0;  // turns of the loop watched; gaps over a 60-Hz frame
            // The GUI thread's CPU time: in the longest gap (a gap it hardly worked in is time it
            // was not run: the machine's other load), the most between two turns, and per move.
            double workInLongestGapMs = 0, longestWorkMs = 0, lastCpuMs = 0, dragCpuMs = 0;
            // The time it waited, ready, for a CPU: in the longest gap, and the last reading.
            double readyInLongestGapMs = -1, lastReadyMs = 0;
        };
        auto bench = std::make_shared<Bench>();
        bench->moves = std::max(1, parser.value("bench-slider").toInt());
        auto* ticker = new QTimer(&window);
        ticker->setInterval(1);
        QObject::connect(ticker, &QTimer::timeout, [bench] {
            const qint64 gap = bench->loopClock.restart();
            ++bench->turns;
            if (gap > 16) ++bench->gapsOverFrame;
            const double cpu = threadCpuMs(), work = cpu - bench->lastCpuMs;
            const double ready = threadRunQueueWaitMs(), waited = ready - bench->lastReadyMs;
            bench->lastCpuMs = cpu;
            bench->lastReadyMs = ready;
            if (gap > bench->longestGap)
                bench->longestGap = gap, bench->workInLongestGapMs = work, bench->readyInLongestGapMs = ready < 0 ? -1 : waited;
            bench->longestWorkMs = std::max(bench->longestWorkMs, work);
        });
        auto median = [](std::vector<double> v) {
            std::sort(v.begin(), v.end());
            return v.empty() ? 0.0 : v[v.size() / 2];
        };
        auto next = [&window, bench, ticker, median] {
            QSlider* slider = window.scaleSlider();
            if (++bench->step >= bench->moves) {
                if (!bench->released) {  // release: the full result replaces the preview
                    bench->dragCpuMs = threadCpuMs() - bench->dragCpuMs;
                    bench->released = true;
                    bench->clock.restart();
                    slider->setSliderDown(false);
                    return;
                }
                const double releaseMs = double(bench->clock.nsecsElapsed()) / 1e6;
                const double worst = *std::max_element(bench->moveMs.begin(), bench->moveMs.end());
                std::printf("slider move -> updated image (preview while dragging): median %.1f ms over %zu moves (min %.1f, max %.1f); "
                            "the worker's part: median %.1f ms\n",
                            median(bench->moveMs), bench->moveMs.size(), *std::min_element(bench->moveMs.begin(), bench->moveMs.end()),
                            worst, median(bench->workerMs));
                std::printf("slider release -> full result on screen: %.1f ms\n", releaseMs);
                std::printf("longest event-loop gap on the GUI thread during the drag: %lld ms (the GUI thread worked %.1f ms of it",
                            static_cast<long long>(bench->longestGap), bench->workInLongestGapMs);
                if (bench->readyInLongestGapMs >= 0) std::printf(" and waited %.1f ms, ready, for a CPU", bench->readyInLongestGapMs);
                std::printf("); gaps over 16 ms: %d in %d turns of the loop\n", bench->gapsOverFrame, bench->turns);
                std::printf("the GUI thread's longest work between two turns of its event loop: %.1f ms; its CPU time per move: %.1f ms "
                            "(the 1-ms watch included)\n",
                            bench->longestWorkMs, bench->dragCpuMs / double(bench->moves));
#ifdef __linux__
                struct rusage usage {};
                getrusage(RUSAGE_SELF, &usage);
                std::printf("peak RSS of the editor: %.0f MB\n", double(usage.ru_maxrss) / 1024.0);
#endif
                QApplication::exit(0);
                return;
            }
            if (bench->step == 0) {  // the photo is open and shown: press, start watching the loop
                slider->setSliderDown(true);
                bench->loopClock.start();
                bench->lastCpuMs = bench->dragCpuMs = threadCpuMs();
                bench->lastReadyMs = threadRunQueueWaitMs();
                ticker->start();
            }
            const int value = 10 + (bench->step * 7) % 31;  // 0.10 .. 0.40, always a change
            bench->clock.restart();
            slider->setValue(value == slider->value() ? value + 1 : value);
        };
        QObject::connect(&window, &ideu::ui::MainWindow::resultShown, &window, [&window, bench, next](quint64 generation) {
            if (generation != window.controller()->request().generation) return;
            const bool preview = window.lastResult().preview;
            if (bench->step >= 0 && !bench->released) {
                if (!preview) return;  // a full result of an earlier request
                bench->moveMs.push_back(double(bench->clock.nsecsElapsed()) / 1e6);
                bench->workerMs.push_back(window.lastResult().milliseconds);
            }
            if (bench->released && preview) return;
            QTimer::singleShot(bench->released ? 0 : 50, next);
        });
    }
    if (!photos.isEmpty()) window.openPhoto(photos.front());
    return app.exec();
}
