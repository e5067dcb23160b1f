// Reading JSON as admins export it: any of UTF-8 / UTF-8+BOM / UTF-16LE/BE+BOM,
// OData annotations, PascalCase or camelCase names, {"value": [...]} envelopes,
// PowerShell's unwrapped one-element arrays, nulls.
#pragma once

#include <memory>
#include <string>
#include <optional>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace tenantscan {

// Converts raw file bytes to UTF-8: strips a UTF-8 BOM, transcodes UTF-16LE/BE with a BOM
// (and BOM-less UTF-16 recognised by NUL bytes in the first characters).
// Throws InputError(file, "", ...) on invalid encodings (e.g. unpaired surrogates, odd length).
std::string decode_text(const std::string& bytes, const std::string& file);

// Reads a file and parses it as JSON (after decode_text). Throws InputError naming the file
// (and line/column for syntax errors) when the file cannot be read or parsed.
nlohmann::json read_json_file(const std::string& path);
// Reads a file and converts it to UTF-8 (decode_text), without parsing it. Throws InputError naming
// the file when it cannot be read or its encoding is invalid.
std::string read_text_file(const std::string& path);
nlohmann::json parse_json_text(const std::string& bytes, const std::string& file);
// Parses UTF-8 text event by event (nlohmann's SAX interface), after the nesting check the other
// parsers make: a large document can be consumed without building its DOM. Syntax errors throw the
// InputError parse_json_text throws (file, line, column); exceptions from the handler pass through.
void parse_json_events(const std::string& text, const std::string& file, nlohmann::json_sax<nlohmann::json>& handler);

// True for OData annotation keys: "@odata.context", "x@odata.type", "@microsoft.graph.tips".
bool is_annotation_key(std::string_view key);

// The one notion of "unset" every decoder uses (docs/snapshot-format.md, "Unset values"): absent
// (a null view), null, "", [], an array whose elements are all unset, and an object whose members
// are all unset, recursively, annotation keys ignored. The Graph PowerShell SDK, ScubaGear and
// ConvertTo-Json write an unset complex property as such an object of nulls. false and 0 are set.
bool is_unset(const nlohmann::json& value);

// A position in a parsed document: the value, its file and its JSON pointer. All accessors are
// tolerant of casing and annotations and throw InputError with the pointer on type mismatches.
// The pointer is built only when asked for (an error, evidence): a view shares its parent's pointer
// and file and keeps its own last token, so walking a large document formats no strings.
class JsonView {
public:
    JsonView(const nlohmann::json& value, std::string file, std::string pointer);

    const nlohmann::json& value() const { return *value_; }
    const std::string& file() const { return *file_; }
    const std::string& pointer() const;

    // null or absent counts as "not configured".
    bool is_null() const { return value_->is_null(); }
    bool is_object() const { return value_->is_object(); }

    // Member lookup, case-insensitive, annotation keys skipped. Returns a view of null when absent,
    // or when this value is null or [] (not configured); throws when this value is another non-object.
    JsonView get(std::string_view key) const;
    bool has(std::string_view key) const;  // present and not unset (is_unset)

    // Scalars. Unset (is_unset: absent, null, "", [], an object of nulls) → fallback. Wrong types → InputError.
    std::string string(std::string_view key, const std::string& fallback = {}) const;
    bool boolean(std::string_view key, bool fallback) const;          // accepts true/false and "True"/"False"
    std::optional<bool> optional_boolean(std::string_view key) const;
    long long integer(std::string_view key, long long fallback) const;

    // A list of strings: null/absent/[]/"" → empty; a bare string → one element; null and ""
    // elements are skipped; comma-separated strings are NOT split (use split_flags for flags enums).
    std::vector<std::string> strings(std::string_view key) const;

    // The elements of an array-valued member: accepts an array, a {"value": [...]} envelope,
    // null/absent (→ empty), or a bare object (PowerShell's unwrapped one-element array).
    std::vector<JsonView> elements(std::string_view key) const;
    // The same for this value itself.
    std::vector<JsonView> as_elements() const;
    // A view of `value` as element `index` of this array, for elements parsed apart from their
    // document (the snapshot loader decodes large arrays element by element). `value` must outlive it.
    JsonView element(const nlohmann::json& value, std::size_t index) const;

    [[noreturn]] void fail(const std::string& message) const;

private:
    struct Token {
        std::string_view key;  // into the document's key, or a key the caller named (copied below)
        std::string ownKey;    // a key that is not in the document, copied
        std::size_t index = 0;
        bool isIndex = false;
    };
    JsonView(const nlohmann::json& value, const JsonView& parent, Token token);
    const std::shared_ptr<const std::string>& shared_pointer() const;

    const nlohmann::json* value_;
    std::shared_ptr<const std::string> file_;
    std::shared_ptr<const std::string> parentPointer_;      // null: pointer_ was given
    Token token_;
    mutable std::shared_ptr<const std::string> pointer_;    // built on first use
};

// Name of a JSON type for messages: "a string", "an array", "an object", "a number", ...
std::string describe_json_type(const nlohmann::json& value);

// Splits a flags enum string ("internalGuest,b2bCollaborationGuest") into its parts.
std::vector<std::string> split_flags(const std::string& flags);

}  // namespace tenantscan
