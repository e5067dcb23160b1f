#include <tenantscan/json_input.hpp>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <type_traits>
#include <utility>

#include <tenantscan/errors.hpp>
#include <tenantscan/detail/text.hpp>

#include "loader/text_detail.hpp"

namespace tenantscan {

namespace text_detail {

std::string escape_pointer_token(std::string_view token) {
    std::string escaped;
    escaped.reserve(token.size());
    for (char c : token) {
        if (c == '~') {
            escaped += "~0";
        } else if (c == '/') {
            escaped += "~1";
        } else {
            escaped += c;
        }
    }
    return escaped;
}

void append_utf8(std::string& out, char32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

}  // namespace text_detail

using text_detail::append_utf8;
using text_detail::escape_pointer_token;

namespace {

// Graph objects nest about a dozen levels deep (the corpus peaks at 11). Anything far deeper is
// hostile or broken input; refusing it early keeps every recursive walk over the document
// (ours, and nlohmann's copy and dump) far from the stack limit.
constexpr int kMaxNestingDepth = 256;

std::string hex16(unsigned value) {
    static const char digits[] = "0123456789ABCDEF";
    std::string text = "0x";
    for (int shift = 12; shift >= 0; shift -= 4) text += digits[(value >> shift) & 0xF];
    return text;
}

std::string utf16_to_utf8(const std::string& bytes, std::size_t start, bool littleEndian, const std::string& file) {
    const std::size_t length = bytes.size() - start;
    const char* name = littleEndian ? "UTF-16LE" : "UTF-16BE";
    if (length % 2 != 0) {
        throw InputError(file, "", std::string("invalid ") + name + " text: odd number of bytes (" +
                                       std::to_string(bytes.size()) + "); the file is truncated or not " + name);
    }
    auto unit_at = [&](std::size_t offset) -> unsigned {
        auto first = static_cast<unsigned char>(bytes[offset]);
        auto second = static_cast<unsigned char>(bytes[offset + 1]);
        return littleEndian ? (first | (second << 8)) : ((first << 8) | second);
    };
    std::string out;
    out.reserve(length / 2);
    for (std::size_t offset = start; offset < bytes.size(); offset += 2) {
        unsigned unit = unit_at(offset);
        if (unit >= 0xD800 && unit <= 0xDBFF) {
            unsigned low = offset + 2 < bytes.size() ? unit_at(offset + 2) : 0;
            if (low < 0xDC00 || low > 0xDFFF) {
                throw InputError(file, "", std::string("invalid ") + name + " text: unpaired high surrogate " +
                                               hex16(unit) + " at byte " + std::to_string(offset));
            }
            append_utf8(out, 0x10000 + ((static_cast<char32_t>(unit) - 0xD800) << 10) + (low - 0xDC00));
            offset += 2;
        } else if (unit >= 0xDC00 && unit <= 0xDFFF) {
            throw InputError(file, "", std::string("invalid ") + name + " text: unpaired low surrogate " +
                                           hex16(unit) + " at byte " + std::to_string(offset));
        } else {
            append_utf8(out, unit);
        }
    }
    return out;
}

bool starts_with_bytes(const std::string& bytes, std::initializer_list<unsigned char> prefix) {
    if (bytes.size() < prefix.size()) return false;
    std::size_t i = 0;
    for (unsigned char expected : prefix) {
        if (static_cast<unsigned char>(bytes[i++]) != expected) return false;
    }
    return true;
}

// Takes the bytes by value so that plain UTF-8 (the common case) is moved, not copied.
std::string to_utf8(std::string bytes, const std::string& file) {
    if (starts_with_bytes(bytes, {0xEF, 0xBB, 0xBF})) return bytes.erase(0, 3);
    if (starts_with_bytes(bytes, {0xFF, 0xFE, 0x00, 0x00}) || starts_with_bytes(bytes, {0x00, 0x00, 0xFE, 0xFF})) {
        throw InputError(file, "", "UTF-32 text is not supported; save the file as UTF-8 or UTF-16");
    }
    if (starts_with_bytes(bytes, {0xFF, 0xFE})) return utf16_to_utf8(bytes, 2, true, file);
    if (starts_with_bytes(bytes, {0xFE, 0xFF})) return utf16_to_utf8(bytes, 2, false, file);
    // Without a BOM, JSON's first character is ASCII, so UTF-16 shows a NUL byte beside it (RFC 4627 §3).
    if (bytes.size() >= 2 && bytes[0] != '\0' && bytes[1] == '\0') return utf16_to_utf8(bytes, 0, true, file);
    if (bytes.size() >= 2 && bytes[0] == '\0' && bytes[1] != '\0') return utf16_to_utf8(bytes, 0, false, file);
    return bytes;
}

// Counts bracket nesting outside strings; a linear scan costs little next to the parse itself.
void check_nesting(const std::string& text, const std::string& file) {
    int depth = 0;
    bool inString = false;
    std::size_t line = 1, column = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '\n') {
            ++line;
            column = 0;
            continue;
        }
        if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++column;  // count characters, not UTF-8 bytes
        if (inString) {
            if (c == '\\') {
                ++i;
                ++column;
            } else if (c == '"') {
                inString = false;
            }
        } else if (c == '"') {
            inString = true;
        } else if (c == '[' || c == '{') {
            if (++depth > kMaxNestingDepth) {
                throw InputError(file, "", "line " + std::to_string(line) + ", column " + std::to_string(column) +
                                               ": arrays and objects nested more than " +
                                               std::to_string(kMaxNestingDepth) + " levels deep");
            }
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
    }
}

// nlohmann's messages read "[json.exception.parse_error.101] parse error at line 3, column 5: syntax
// error while parsing ..."; keep the position and the explanation, drop the id.
std::string describe_parse_failure(std::string text) {
    if (auto close = text.find("] "); text.rfind("[json.exception.", 0) == 0 && close != std::string::npos) {
        text.erase(0, close + 2);
    }
    if (text.rfind("parse error at ", 0) == 0) text.erase(0, std::strlen("parse error at "));
    return text;
}

// nlohmann/json 3.11 compares object keys transparently, so a lookup needs no std::string; 3.10 does not.
template <class Map, class = void>
struct transparent_lookup : std::false_type {};
template <class Map>
struct transparent_lookup<Map, std::void_t<typename Map::key_compare::is_transparent>> : std::true_type {};

template <class Map>
typename Map::const_iterator find_exact(const Map& map, std::string_view key) {
    if constexpr (transparent_lookup<Map>::value) return map.find(key);
    else return map.find(std::string(key));
}

const nlohmann::json& null_json() {
    static const nlohmann::json null_value;
    return null_value;
}

nlohmann::json parse_utf8(const std::string& text, const std::string& file) {
    check_nesting(text, file);
    try {
        return nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& error) {
        throw InputError(file, "", describe_parse_failure(error.what()));
    }
}

// Thrown by SyntaxErrorTrap when the nesting passes kMaxNestingDepth.
struct NestingTooDeep {};

// Passes every event on, and turns a syntax error into the same InputError parse_utf8 throws. It
// also counts the nesting, so that the event parser needs no separate pass over the text for it.
class SyntaxErrorTrap final : public nlohmann::json_sax<nlohmann::json> {
public:
    using json = nlohmann::json;
    explicit SyntaxErrorTrap(json_sax<json>& inner) : inner_(inner) {}
    bool null() override { return inner_.null(); }
    bool boolean(bool value) override { return inner_.boolean(value); }
    bool number_integer(json::number_integer_t value) override { return inner_.number_integer(value); }
    bool number_unsigned(json::number_unsigned_t value) override { return inner_.number_unsigned(value); }
    bool number_float(json::number_float_t value, const json::string_t& text) override {
        return inner_.number_float(value, text);
    }
    bool string(json::string_t& value) override { return inner_.string(value); }
    bool binary(json::binary_t& value) override { return inner_.binary(value); }
    bool start_object(std::size_t size) override { return deeper() && inner_.start_object(size); }
    bool key(json::string_t& value) override { return inner_.key(value); }
    bool end_object() override {
        --depth_;
        return inner_.end_object();
    }
    bool start_array(std::size_t size) override { return deeper() && inner_.start_array(size); }
    bool end_array() override {
        --depth_;
        return inner_.end_array();
    }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& error) override {
        message = describe_parse_failure(error.what());
        return false;
    }
    std::string message;

private:
    bool deeper() {
        if (++depth_ > kMaxNestingDepth) throw NestingTooDeep{};
        return true;
    }
    json_sax<json>& inner_;
    int depth_ = 0;
};

// null and [] both mean "not configured" where an object is expected (real exports write either).
bool is_empty_container(const nlohmann::json& value) { return value.is_null() || (value.is_array() && value.empty()); }

}  // namespace

bool is_unset(const nlohmann::json& value) {
    switch (value.type()) {
        case nlohmann::json::value_t::null: return true;
        case nlohmann::json::value_t::string: return value.get_ref<const std::string&>().empty();
        case nlohmann::json::value_t::array:
            return std::all_of(value.begin(), value.end(), [](const nlohmann::json& element) { return is_unset(element); });
        case nlohmann::json::value_t::object:
            for (const auto& member : value.items()) {
                if (!is_annotation_key(member.key()) && !is_unset(member.value())) return false;
            }
            return true;
        default: return false;
    }
}

std::string decode_text(const std::string& bytes, const std::string& file) { return to_utf8(bytes, file); }

nlohmann::json parse_json_text(const std::string& bytes, const std::string& file) {
    return parse_utf8(to_utf8(bytes, file), file);
}

std::string read_text_file(const std::string& path) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) throw InputError(path, "", "is a directory, not a JSON file");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw InputError(path, "", std::string("cannot open file: ") + std::strerror(errno));
    // One read of the whole file (the size is known), not a character-by-character copy.
    std::string bytes;
    in.seekg(0, std::ios::end);
    const std::streamoff size = in.tellg();
    in.seekg(0, std::ios::beg);
    if (size > 0) {
        bytes.resize(static_cast<std::size_t>(size));
        in.read(bytes.data(), size);
        bytes.resize(static_cast<std::size_t>(in.gcount()));
    }
    // Whatever the size said (special files say 0 or -1), read on to the end.
    if (in.good() || size <= 0) {
        in.clear();
        bytes.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    if (in.bad()) throw InputError(path, "", std::string("cannot read file: ") + std::strerror(errno));
    return to_utf8(std::move(bytes), path);
}

nlohmann::json read_json_file(const std::string& path) { return parse_utf8(read_text_file(path), path); }

void parse_json_events(const std::string& text, const std::string& file, nlohmann::json_sax<nlohmann::json>& handler) {
    SyntaxErrorTrap trap(handler);
    bool parsed = false;
    try {
        parsed = nlohmann::json::sax_parse(text, &trap);
    } catch (const NestingTooDeep&) {
        // Only now the separate pass: it gives the position for the message parse_json_text gives.
        check_nesting(text, file);
        throw InputError(file, "", "arrays and objects nested more than " + std::to_string(kMaxNestingDepth) +
                                       " levels deep");
    }
    if (!parsed) {
        if (trap.message.empty()) throw InputError(file, "", "the JSON parser stopped without saying why");
        throw InputError(file, "", trap.message);
    }
}

bool is_annotation_key(std::string_view key) {
    // OData instance annotations start with '@' ("@odata.context"); property annotations put it
    // after the property name ("createdDateTime@odata.type"). Graph property names never contain '@'.
    return key.find('@') != std::string_view::npos;
}

JsonView::JsonView(const nlohmann::json& value, std::string file, std::string pointer)
    : value_(&value),
      file_(std::make_shared<const std::string>(std::move(file))),
      pointer_(std::make_shared<const std::string>(std::move(pointer))) {}

JsonView::JsonView(const nlohmann::json& value, const JsonView& parent, Token token)
    : value_(&value), file_(parent.file_), parentPointer_(parent.shared_pointer()), token_(std::move(token)) {}

const std::shared_ptr<const std::string>& JsonView::shared_pointer() const {
    if (!pointer_) {
        const std::string& parent = *parentPointer_;
        std::string pointer;
        if (token_.isIndex) {
            pointer.reserve(parent.size() + 8);
            pointer.append(parent).append("/").append(std::to_string(token_.index));
        } else {
            std::string_view key = token_.ownKey.empty() ? token_.key : std::string_view(token_.ownKey);
            pointer.reserve(parent.size() + 1 + key.size());
            pointer.append(parent).append("/").append(escape_pointer_token(key));
        }
        pointer_ = std::make_shared<const std::string>(std::move(pointer));
    }
    return pointer_;
}

const std::string& JsonView::pointer() const { return *shared_pointer(); }

JsonView JsonView::element(const nlohmann::json& value, std::size_t index) const {
    Token token;
    token.index = index;
    token.isIndex = true;
    return JsonView(value, *this, std::move(token));
}

JsonView JsonView::get(std::string_view key) const {
    // A key that is not in the document is copied: the caller's text need not outlive the view.
    auto absent = [&] {
        Token token;
        token.ownKey = std::string(key);
        token.key = key;  // used only when ownKey is empty, i.e. when the key itself is ""
        if (token.ownKey.empty()) token.key = std::string_view();
        return JsonView(null_json(), *this, std::move(token));
    };
    if (!value_->is_object()) {
        if (is_empty_container(*value_)) return absent();
        fail("expected an object, got " + describe_json_type(*value_));
    }
    const auto& object = value_->get_ref<const nlohmann::json::object_t&>();
    auto found = find_exact(object, key);
    if (found == object.end()) {
        // Case-insensitive fallback: Graph writes camelCase, the PowerShell SDK and Exchange PascalCase.
        // The object is sorted by exact key, so when several spellings exist the choice is stable.
        found = std::find_if(object.begin(), object.end(), [&](const auto& member) {
            return iequals(member.first, key) && !is_annotation_key(member.first);
        });
    }
    if (found == object.end()) return absent();
    Token token;
    token.key = found->first;  // the document's key: lives as long as the document
    return JsonView(found->second, *this, std::move(token));
}

bool JsonView::has(std::string_view key) const { return !is_unset(get(key).value()); }

std::string JsonView::string(std::string_view key, const std::string& fallback) const {
    JsonView member = get(key);
    const auto& value = member.value();
    if (is_unset(value)) return fallback;
    if (!value.is_string()) member.fail("expected a string, got " + describe_json_type(value));
    return value.get_ref<const std::string&>();
}

std::optional<bool> JsonView::optional_boolean(std::string_view key) const {
    JsonView member = get(key);
    const auto& value = member.value();
    if (is_unset(value)) return std::nullopt;
    if (value.is_boolean()) return value.get<bool>();
    // Exchange objects serialised through some PowerShell paths carry "True"/"False" strings.
    if (value.is_string()) {
        const auto& text = value.get_ref<const std::string&>();
        if (iequals(text, "true")) return true;
        if (iequals(text, "false")) return false;
        member.fail("expected true or false, got the string \"" + text + "\"");
    }
    member.fail("expected true or false, got " + describe_json_type(value));
}

bool JsonView::boolean(std::string_view key, bool fallback) const {
    return optional_boolean(key).value_or(fallback);
}

long long JsonView::integer(std::string_view key, long long fallback) const {
    JsonView member = get(key);
    const auto& value = member.value();
    if (is_unset(value)) return fallback;
    if (value.is_number_integer() && !value.is_number_unsigned()) return value.get<long long>();
    if (value.is_number_unsigned() && value.get<unsigned long long>() <= static_cast<unsigned long long>(LLONG_MAX)) {
        return static_cast<long long>(value.get<unsigned long long>());
    }
    if (value.is_number_float()) {
        double number = value.get<double>();
        if (std::isfinite(number) && std::floor(number) == number && std::fabs(number) < 9.0e18) {
            return static_cast<long long>(number);
        }
    }
    member.fail("expected an integer, got " + (value.is_number() ? value.dump() : describe_json_type(value)));
}

std::vector<std::string> JsonView::strings(std::string_view key) const {
    JsonView member = get(key);
    if (member.value().is_string()) {
        if (is_unset(member.value())) return {};
        return {member.value().get<std::string>()};
    }
    std::vector<std::string> result;
    for (const JsonView& element : member.as_elements()) {
        const auto& value = element.value();
        if (is_unset(value) && !value.is_object()) continue;  // null and "": nothing listed
        if (!value.is_string()) element.fail("expected a string, got " + describe_json_type(value));
        result.push_back(value.get<std::string>());
    }
    return result;
}

std::vector<JsonView> JsonView::elements(std::string_view key) const { return get(key).as_elements(); }

std::vector<JsonView> JsonView::as_elements() const {
    std::vector<JsonView> result;
    if (value_->is_null()) return result;
    if (value_->is_array()) {
        result.reserve(value_->size());
        for (std::size_t i = 0; i < value_->size(); ++i) result.push_back(element((*value_)[i], i));
        return result;
    }
    if (value_->is_object()) {
        // A Graph list response: {"@odata.context": ..., "value": [...]} with nothing but annotations
        // beside "value". Anything else is one object that PowerShell unwrapped from its array.
        bool envelope = false;
        for (const auto& member : value_->items()) {
            if (iequals(member.key(), "value") && (member.value().is_array() || member.value().is_null())) {
                envelope = true;
            } else if (!is_annotation_key(member.key())) {
                envelope = false;
                break;
            }
        }
        if (envelope) return get("value").as_elements();
        result.push_back(*this);
        return result;
    }
    fail("expected an array, got " + describe_json_type(*value_));
}

void JsonView::fail(const std::string& message) const { throw InputError(*file_, pointer(), message); }

std::string describe_json_type(const nlohmann::json& value) {
    switch (value.type()) {
        case nlohmann::json::value_t::null: return "null";
        case nlohmann::json::value_t::object: return "an object";
        case nlohmann::json::value_t::array: return "an array";
        case nlohmann::json::value_t::string: return "a string";
        case nlohmann::json::value_t::boolean: return "a boolean";
        case nlohmann::json::value_t::number_integer:
        case nlohmann::json::value_t::number_unsigned:
        case nlohmann::json::value_t::number_float: return "a number";
        case nlohmann::json::value_t::binary: return "binary data";
        case nlohmann::json::value_t::discarded: break;
    }
    return "an invalid value";
}

std::vector<std::string> split_flags(const std::string& flags) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    for (;;) {
        std::size_t end = std::min(flags.find(',', start), flags.size());
        std::size_t first = flags.find_first_not_of(" \t", start);
        if (first < end) {
            std::size_t last = flags.find_last_not_of(" \t", end - 1);
            parts.push_back(flags.substr(first, last - first + 1));
        }
        if (end == flags.size()) break;
        start = end + 1;
    }
    return parts;
}

}  // namespace tenantscan
