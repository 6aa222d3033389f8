#include "common/sha256.h"

#include <QtTest>

class TestSha256 : public QObject {
    Q_OBJECT
private slots:
    void knownVectors() {
        QCOMPARE(QString::fromStdString(ideu::sha256Hex("", 0)),
                 QString("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
        QCOMPARE(QString::fromStdString(ideu::sha256Hex("abc", 3)),
                 QString("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
        const std::string two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
        QCOMPARE(QString::fromStdString(ideu::sha256Hex(two.data(), two.size())),
                 QString("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"));
    }
    void streamingEqualsOneShot() {
        std::string million(1000000, 'a');
        ideu::Sha256 h;
        for (std::size_t i = 0; i < million.size(); i += 997) h.update(million.data() + i, std::min<std::size_t>(997, million.size() - i));
        QCOMPARE(QString::fromStdString(h.finishHex()),
                 QString("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"));
    }
};

QTEST_GUILESS_MAIN(TestSha256)
#include "test_sha256.moc"
