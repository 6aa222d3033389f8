#pragma once
// Exception types of the core library. Messages are one line, name the file or object
// concerned and say why, so front ends can print them as they are.
#include <stdexcept>
#include <string>

namespace ideu {

class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// An input image that cannot be read (missing, corrupt, truncated, too large, unsupported).
class ImageError : public Error {
public:
    using Error::Error;
};

// A model file that is missing, corrupt or inconsistent.
class ModelError : public Error {
public:
    using Error::Error;
};

// A write that was refused or failed (would overwrite an input, disk full, ...).
class WriteError : public Error {
public:
    using Error::Error;
};

// Thrown by long operations when their cancellation token fires.
class CancelledError : public Error {
public:
    CancelledError() : Error("cancelled") {}
};

}  // namespace ideu
