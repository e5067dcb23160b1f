#include <tenantscan/source_location.hpp>

#include <set>

#include <tenantscan/json_input.hpp>

#include "loader/text_detail.hpp"

namespace tenantscan {

namespace {

// Walks a JSON text only along the wanted paths, skipping everything else without building it,
// and records the line where each wanted value starts. It never recurses deeper than the longest
// wanted pointer, and stops quietly at anything malformed.
class LineFinder {
public:
    LineFinder(const std::string& text, const std::set<std::string>& wanted) : text_(text) {
        for (const auto& pointer : wanted) {
            for (std::size_t slash = pointer.find('/', 1); slash != std::string::npos; slash = pointer.find('/', slash + 1))
                prefixes_.insert(pointer.substr(0, slash));
            prefixes_.insert(pointer);
        }
        prefixes_.insert("");
    }

    std::map<std::string, int> run() {
        walk("");
        return lines_;
    }

private:
    bool more() const { return pos_ < text_.size(); }
    char peek() const { return text_[pos_]; }
    void advance() {
        if (text_[pos_] == '\n') ++line_;
        ++pos_;
    }
    void skip_space() {
        while (more() && (peek() == ' ' || peek() == '\t' || peek() == '\r' || peek() == '\n')) advance();
    }

    unsigned hex4() {
        unsigned value = 0;
        for (int i = 0; i < 4 && more(); ++i, advance()) {
            char c = peek();
            value <<= 4;
            if (c >= '0' && c <= '9') value |= static_cast<unsigned>(c - '0');
            else if (c >= 'a' && c <= 'f') value |= static_cast<unsigned>(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F') value |= static_cast<unsigned>(c - 'A' + 10);
        }
        return value;
    }

    // At the opening quote; leaves the position after the closing quote.
    std::string read_string() {
        std::string out;
        advance();
        while (more() && peek() != '"') {
            if (peek() != '\\') {
                out += peek();
                advance();
                continue;
            }
            advance();
            if (!more()) break;
            char c = peek();
            advance();
            switch (c) {
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                case 'n': out += '\n'; break;
                case 'r': out += '\r'; break;
                case 't': out += '\t'; break;
                case 'u': {
                    unsigned cp = hex4();
                    if (cp >= 0xD800 && cp < 0xDC00 && pos_ + 1 < text_.size() && text_[pos_] == '\\' &&
                        text_[pos_ + 1] == 'u') {
                        advance();
                        advance();
                        unsigned low = hex4();
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                    }
                    text_detail::append_utf8(out, cp);
                    break;
                }
                default: out += c;
            }
        }
        if (more()) advance();
        return out;
    }

    void skip_value() {
        if (!more()) return;
        if (peek() == '"') {
            read_string();
            return;
        }
        if (peek() != '{' && peek() != '[') {
            while (more() && peek() != ',' && peek() != '}' && peek() != ']' && peek() != ' ' && peek() != '\n' &&
                   peek() != '\r' && peek() != '\t')
                advance();
            return;
        }
        int depth = 0;
        while (more()) {
            char c = peek();
            if (c == '"') {
                read_string();
                continue;
            }
            advance();
            if (c == '{' || c == '[') ++depth;
            else if ((c == '}' || c == ']') && --depth == 0) return;
        }
    }

    void child(const std::string& path) {
        if (prefixes_.count(path)) walk(path);
        else skip_value();
    }

    void walk(const std::string& path) {
        skip_space();
        if (!more()) return;
        lines_[path] = line_;
        const char open = peek();
        if (open != '{' && open != '[') {
            skip_value();
            return;
        }
        advance();
        for (std::size_t index = 0;; ++index) {
            skip_space();
            if (!more() || peek() == '}' || peek() == ']') break;
            if (open == '{') {
                if (peek() != '"') return;
                std::string key = read_string();
                skip_space();
                if (!more() || peek() != ':') return;
                advance();
                skip_space();
                child(path + "/" + text_detail::escape_pointer_token(key));
            } else {
                child(path + "/" + std::to_string(index));
            }
            skip_space();
            if (!more() || peek() != ',') break;
            advance();
        }
        if (more()) advance();
    }

    const std::string& text_;
    std::size_t pos_ = 0;
    int line_ = 1;
    std::set<std::string> prefixes_;
    std::map<std::string, int> lines_;
};

int deepest_line(const std::map<std::string, int>& lines, std::string pointer) {
    for (;;) {
        auto it = lines.find(pointer);
        if (it != lines.end()) return it->second;
        if (pointer.empty()) return 1;
        pointer.erase(pointer.rfind('/'));
    }
}

}  // namespace

int json_pointer_line(const std::string& text, const std::string& pointer) {
    return deepest_line(LineFinder(text, {pointer}).run(), pointer);
}

void locate_lines(std::map<std::string, SourceLocation>& locations) {
    std::map<std::string, std::set<std::string>> pointersByFile;
    for (const auto& [key, location] : locations) pointersByFile[location.file].insert(location.pointer);
    for (const auto& [file, pointers] : pointersByFile) {
        std::map<std::string, int> lines;
        try {
            // One read of the file's size, decoded in place: the file is in memory once, not three times.
            lines = LineFinder(read_text_file(file), pointers).run();
        } catch (const std::exception&) {
            // Unreadable now (it was read for the scan): locations fall back to the first line.
        }
        for (auto& [key, location] : locations)
            if (location.file == file) location.line = deepest_line(lines, location.pointer);
    }
}

}  // namespace tenantscan
