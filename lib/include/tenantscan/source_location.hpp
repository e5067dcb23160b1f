// Where something in the input was read from, down to the line, so that reports (SARIF) can
// point a reader at it.
#pragma once

#include <map>
#include <string>

namespace tenantscan {

struct SourceLocation {
    std::string file;     // path as given on the command line or found in a directory
    std::string pointer;  // JSON pointer inside the file ("" = the whole document)
    int line = 0;         // 1-based line where the value starts; 0 = not located yet
};

// The 1-based line where the value at `pointer` starts in the JSON `text` (UTF-8). Keys match
// exactly (the loader's pointers spell keys as the file does). When the pointer leads nowhere,
// the line of the deepest value it reaches; 1 for "" or text that is not JSON.
int json_pointer_line(const std::string& text, const std::string& pointer);

// Fills in `line` for every location, reading each file once (any encoding the loader reads).
// A file that cannot be read leaves its locations at line 1.
void locate_lines(std::map<std::string, SourceLocation>& locations);

}  // namespace tenantscan
