#pragma once
// Cooperative cancellation: long work checks the token between stages.
#include "common/error.h"

#include <atomic>
#include <memory>

namespace ideu {

class CancelToken {
public:
    CancelToken() : flag_(std::make_shared<std::atomic<bool>>(false)) {}
    void cancel() const { flag_->store(true); }
    bool cancelled() const { return flag_->load(); }
    void check() const {
        if (cancelled()) throw CancelledError();
    }

private:
    std::shared_ptr<std::atomic<bool>> flag_;
};

}  // namespace ideu
