// Where and how the CLI writes what it produced.
#pragma once

#include <functional>
#include <ostream>
#include <string>

namespace tenantscan::cli {

// Colour only on a terminal, never with NO_COLOR set or when writing to a file.
bool use_colour(bool writingToFile);

// Writes text to the file (atomically: temporary file + rename) or, when path is empty, to stdout.
// Throws std::runtime_error naming the file when it cannot be written.
void write_output(const std::string& text, const std::string& path);
// The same, for output written as it is produced: `write` gets the stream (the temporary file, or
// standard output).
void write_output_stream(const std::string& path, const std::function<void(std::ostream&)>& write);

// Runs a command body, turning input and I/O errors into a message on stderr and exit code 2.
int run_guarded(const std::function<int()>& body);

}  // namespace tenantscan::cli
