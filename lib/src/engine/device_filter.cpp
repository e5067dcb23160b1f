// The device filter rule language of Conditional Access, parsed by recursive descent.
//
// Grammar (operator names and the "device." prefix are case-insensitive):
//   rule       := or-expr END
//   or-expr    := and-expr ( "-or" and-expr )*
//   and-expr   := unary ( "-and" unary )*
//   unary      := "-not" unary | "(" or-expr ")" | comparison
//   comparison := "device." NAME OPERATOR value          (-in / -notIn take a list)
//   value      := STRING | WORD                          (WORD: True, False, ServerAD, ...)
//   list       := "[" value ( "," value )* "]"
// Precedence follows Entra's dynamic membership rule language, which the device filter reuses:
// comparisons, then -not, then -and, then -or; parentheses override.
#include <tenantscan/detail/device_filter.hpp>

// -match patterns run on RE2 (Debian's libre2): matching takes time linear in the input whatever
// the pattern, where std::regex backtracks exponentially (found by fuzz_device_filter) and
// recurses per character. RE2 has no back-references or look-around: such a pattern is a
// syntax error here, so a policy using it is "cannot tell" (review), never a guess.
#include <re2/re2.h>

#include <string_view>

namespace tenantscan {

namespace {

constexpr int kMaxNesting = 200;           // parentheses and -not; deeper rules are rejected, never overflow the stack
constexpr std::size_t kMaxPatternLength = 1000;
constexpr int kMaxPatternNesting = 32;     // deeper groups are refused (RE2 also bounds its parse)
// Repetition counts ({n,m}) and back-reference numbers (\n) longer than this are refused before
// compiling (libstdc++'s regex overflowed on them; RE2 refuses counts above 1000 anyway).
constexpr std::size_t kMaxPatternNumberDigits = 4;

enum class Op { Eq, StartsWith, EndsWith, Contains, In, Match };

struct OperatorName {
    std::string_view name;  // canonical spelling
    Op op;
    bool negated;
};

constexpr OperatorName kOperators[] = {
    {"-eq", Op::Eq, false},           {"-ne", Op::Eq, true},
    {"-startsWith", Op::StartsWith, false}, {"-notStartsWith", Op::StartsWith, true},
    {"-endsWith", Op::EndsWith, false}, {"-notEndsWith", Op::EndsWith, true},
    {"-contains", Op::Contains, false}, {"-notContains", Op::Contains, true},
    {"-in", Op::In, false},           {"-notIn", Op::In, true},
    {"-match", Op::Match, false},     {"-notMatch", Op::Match, true},
};

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool same_text(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (lower(a[i]) != lower(b[i])) return false;
    return true;
}

bool starts_with(std::string_view text, std::string_view prefix) {
    return text.size() >= prefix.size() && same_text(text.substr(0, prefix.size()), prefix);
}

bool ends_with(std::string_view text, std::string_view suffix) {
    return text.size() >= suffix.size() && same_text(text.substr(text.size() - suffix.size()), suffix);
}

bool contains(std::string_view text, std::string_view part) {
    if (part.size() > text.size()) return false;
    for (std::size_t i = 0; i + part.size() <= text.size(); ++i)
        if (same_text(text.substr(i, part.size()), part)) return true;
    return false;
}

std::string describe_operators() {
    std::string names;
    for (const auto& o : kOperators) {
        if (!names.empty()) names += ' ';
        names += o.name;
    }
    return names;
}

}  // namespace

DeviceFilterSyntaxError::DeviceFilterSyntaxError(const std::string& message, std::size_t position)
    : std::runtime_error(message + " at position " + std::to_string(position)), position_(position) {}

struct DeviceFilterRule::Node {
    enum class Kind { Or, And, Not, Comparison };
    struct Value {
        std::string text;
        bool quoted = false;  // printed back in quotes
    };

    Kind kind = Kind::Comparison;
    std::vector<Node> children;  // Or/And: two or more; Not: one

    std::string property;         // lower-case, without "device."
    std::string propertySpelling; // as written, for to_string
    Op op = Op::Eq;
    bool negated = false;
    std::vector<Value> values;    // one, or the list of -in/-notIn
    std::shared_ptr<const re2::RE2> pattern;  // -match / -notMatch, case-insensitive
};

namespace {

using Node = DeviceFilterRule::Node;

struct Token {
    enum class Kind { End, LeftParen, RightParen, LeftBracket, RightBracket, Comma, Dash, String, Word };
    Kind kind = Kind::End;
    std::string text;         // String: the unescaped contents; Word/Dash: as written
    std::size_t position = 0;
};

class Lexer {
public:
    explicit Lexer(const std::string& text) : text_(text) {}

    Token next() {
        while (pos_ < text_.size() && is_space(text_[pos_])) ++pos_;
        Token token;
        token.position = pos_;
        if (pos_ >= text_.size()) return token;
        char c = text_[pos_];
        switch (c) {
            case '(': return single(token, Token::Kind::LeftParen);
            case ')': return single(token, Token::Kind::RightParen);
            case '[': return single(token, Token::Kind::LeftBracket);
            case ']': return single(token, Token::Kind::RightBracket);
            case ',': return single(token, Token::Kind::Comma);
            case '"':
            case '\'': return quoted(token, std::string(1, c));
            case '\\':
                // A rule that was escaped twice on its way through JSON: \"ServerAD\".
                if (pos_ + 1 < text_.size() && text_[pos_ + 1] == '"') return quoted(token, "\\\"");
                break;
            case '-': {
                token.kind = Token::Kind::Dash;
                std::size_t end = pos_ + 1;
                while (end < text_.size() && is_letter(text_[end])) ++end;
                token.text = text_.substr(pos_, end - pos_);
                pos_ = end;
                return token;
            }
            default: break;
        }
        token.kind = Token::Kind::Word;
        std::size_t end = pos_;
        while (end < text_.size() && is_word_char(text_[end])) ++end;
        if (end == pos_) throw DeviceFilterSyntaxError(std::string("unexpected character '") + c + "'", pos_);
        token.text = text_.substr(pos_, end - pos_);
        pos_ = end;
        return token;
    }

private:
    static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
    static bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
    static bool is_word_char(char c) {
        return !is_space(c) && c != '(' && c != ')' && c != '[' && c != ']' && c != ',' && c != '"' && c != '\'' &&
               c != '\\';
    }

    Token single(Token& token, Token::Kind kind) {
        token.kind = kind;
        token.text = text_.substr(pos_, 1);
        ++pos_;
        return token;
    }

    // A string between `delimiter`s. Inside, \" and `" stand for a quote (and \' for an apostrophe
    // in single-quoted strings); every other character, backslashes of regular expressions
    // included, is taken literally.
    Token quoted(Token& token, const std::string& delimiter) {
        token.kind = Token::Kind::String;
        std::size_t i = pos_ + delimiter.size();
        const char quote = delimiter.back();
        while (i < text_.size()) {
            if (text_.compare(i, delimiter.size(), delimiter) == 0) {
                pos_ = i + delimiter.size();
                return token;
            }
            if ((text_[i] == '\\' || text_[i] == '`') && i + 1 < text_.size() && text_[i + 1] == quote) {
                token.text += quote;
                i += 2;
                continue;
            }
            token.text += text_[i];
            ++i;
        }
        throw DeviceFilterSyntaxError("unterminated string (no closing " + delimiter + ")", pos_);
    }

    const std::string& text_;
    std::size_t pos_ = 0;
};

const char* describe(const Token& token) {
    switch (token.kind) {
        case Token::Kind::End: return "the end of the rule";
        case Token::Kind::LeftParen: return "'('";
        case Token::Kind::RightParen: return "')'";
        case Token::Kind::LeftBracket: return "'['";
        case Token::Kind::RightBracket: return "']'";
        case Token::Kind::Comma: return "','";
        default: return nullptr;
    }
}

std::string found(const Token& token) {
    if (const char* d = describe(token)) return d;
    if (token.kind == Token::Kind::String) return "the string \"" + token.text + "\"";
    return "'" + token.text + "'";
}

// Rejects over-long, over-nested patterns and over-long counts before they are compiled.
void check_pattern_complexity(const std::string& pattern, std::size_t position) {
    if (pattern.size() > kMaxPatternLength)
        throw DeviceFilterSyntaxError("regular expression longer than " + std::to_string(kMaxPatternLength) +
                                          " characters",
                                      position);
    int depth = 0;
    bool escaped = false;
    bool inBraces = false;   // inside {n,m}
    bool counting = false;   // in a number that std::regex reads as a count or a back-reference
    std::size_t digits = 0;
    for (char c : pattern) {
        if (c >= '0' && c <= '9') {
            if (counting && ++digits > kMaxPatternNumberDigits)
                throw DeviceFilterSyntaxError("regular expression with a repetition count or back-reference number "
                                              "longer than " + std::to_string(kMaxPatternNumberDigits) + " digits",
                                              position);
        } else {
            digits = 0;
            counting = inBraces;
        }
        if (escaped) {
            escaped = false;
            counting = c >= '0' && c <= '9';
            digits = counting ? 1 : 0;
        } else if (c == '{') {
            inBraces = counting = true;
        } else if (c == '}') {
            inBraces = counting = false;
        } else if (c == '\\') {
            escaped = true;
        } else if (c == '(') {
            if (++depth > kMaxPatternNesting)
                throw DeviceFilterSyntaxError("regular expression nested deeper than " +
                                                  std::to_string(kMaxPatternNesting) + " groups",
                                              position);
        } else if (c == ')') {
            --depth;
        }
    }
}

class Parser {
public:
    explicit Parser(const std::string& text) : lexer_(text) { advance(); }

    Node parse_rule() {
        if (current_.kind == Token::Kind::End) throw DeviceFilterSyntaxError("empty rule: expected a condition such as device.trustType -eq \"ServerAD\"", 0);
        Node root = parse_or(0);
        if (current_.kind != Token::Kind::End)
            throw DeviceFilterSyntaxError("expected -and, -or or the end of the rule, found " + found(current_),
                                          current_.position);
        return root;
    }

private:
    void advance() { current_ = lexer_.next(); }

    bool at_keyword(std::string_view keyword) const {
        return current_.kind == Token::Kind::Dash && same_text(current_.text, keyword);
    }

    Node parse_or(int depth) { return parse_chain(depth, Node::Kind::Or, "-or"); }

    // Chains are kept flat (one node with many children) so long rules never nest deeply.
    Node parse_chain(int depth, Node::Kind kind, std::string_view keyword) {
        Node first = kind == Node::Kind::Or ? parse_chain(depth, Node::Kind::And, "-and") : parse_unary(depth);
        if (!at_keyword(keyword)) return first;
        Node chain;
        chain.kind = kind;
        chain.children.push_back(std::move(first));
        while (at_keyword(keyword)) {
            advance();
            chain.children.push_back(kind == Node::Kind::Or ? parse_chain(depth, Node::Kind::And, "-and")
                                                            : parse_unary(depth));
        }
        return chain;
    }

    Node parse_unary(int depth) {
        bool nests = at_keyword("-not") || current_.kind == Token::Kind::LeftParen;
        if (nests && depth >= kMaxNesting)
            throw DeviceFilterSyntaxError("rule nested deeper than " + std::to_string(kMaxNesting) +
                                              " levels of parentheses or -not",
                                          current_.position);
        if (at_keyword("-not")) {
            advance();
            Node node;
            node.kind = Node::Kind::Not;
            node.children.push_back(parse_unary(depth + 1));
            return node;
        }
        if (current_.kind == Token::Kind::LeftParen) {
            std::size_t open = current_.position;
            advance();
            if (current_.kind == Token::Kind::RightParen)
                throw DeviceFilterSyntaxError("empty parentheses: expected a condition", current_.position);
            Node inner = parse_or(depth + 1);
            if (current_.kind != Token::Kind::RightParen)
                throw DeviceFilterSyntaxError("expected ')' to close the '(' at position " + std::to_string(open) +
                                                  ", found " + found(current_),
                                              current_.position);
            advance();
            return inner;
        }
        return parse_comparison();
    }

    Node parse_comparison() {
        Node node;
        node.kind = Node::Kind::Comparison;
        constexpr std::string_view prefix = "device.";
        if (current_.kind != Token::Kind::Word || !starts_with(current_.text, prefix))
            throw DeviceFilterSyntaxError("expected a device property such as device.trustType, found " + found(current_),
                                          current_.position);
        std::string_view name = std::string_view(current_.text).substr(prefix.size());
        for (std::size_t i = 0; i < name.size(); ++i) {
            char c = name[i];
            bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (i > 0 && c >= '0' && c <= '9');
            if (!ok)
                throw DeviceFilterSyntaxError(std::string("unexpected character '") + c + "' in the property name " + found(current_),
                                              current_.position + prefix.size() + i);
        }
        if (name.empty())
            throw DeviceFilterSyntaxError("expected a property name after 'device.'", current_.position + prefix.size());
        node.propertySpelling = std::string(name);
        for (char c : name) node.property += lower(c);
        advance();

        if (current_.kind != Token::Kind::Dash)
            throw DeviceFilterSyntaxError("expected an operator (" + describe_operators() + "), found " + found(current_),
                                          current_.position);
        const OperatorName* op = nullptr;
        for (const auto& candidate : kOperators)
            if (same_text(candidate.name, current_.text)) op = &candidate;
        if (!op)
            throw DeviceFilterSyntaxError("unknown operator '" + current_.text + "' (expected one of " +
                                              describe_operators() + ")",
                                          current_.position);
        node.op = op->op;
        node.negated = op->negated;
        std::string opName(op->name);
        advance();

        if (node.op == Op::In) {
            parse_list(node, opName);
        } else {
            if (current_.kind == Token::Kind::LeftBracket)
                throw DeviceFilterSyntaxError("a list is only allowed after -in or -notIn, not after " + opName,
                                              current_.position);
            node.values.push_back(parse_value(opName));
        }
        if (node.op == Op::Match) compile_pattern(node);
        return node;
    }

    void parse_list(Node& node, const std::string& opName) {
        if (current_.kind != Token::Kind::LeftBracket)
            throw DeviceFilterSyntaxError("expected '[' to start the list of values after " + opName + ", found " +
                                              found(current_),
                                          current_.position);
        std::size_t open = current_.position;
        advance();
        for (;;) {
            node.values.push_back(parse_value(opName));
            if (current_.kind == Token::Kind::Comma) {
                advance();
                continue;
            }
            if (current_.kind == Token::Kind::RightBracket) break;
            throw DeviceFilterSyntaxError("expected ',' or ']' to close the list opened at position " +
                                              std::to_string(open) + ", found " + found(current_),
                                          current_.position);
        }
        advance();
    }

    Node::Value parse_value(const std::string& opName) {
        Node::Value value;
        if (current_.kind == Token::Kind::String) {
            value.quoted = true;
        } else if (current_.kind == Token::Kind::Word && !starts_with(current_.text, "device.")) {
            value.quoted = false;
        } else {
            throw DeviceFilterSyntaxError("expected a value (a quoted string, True or False) after " + opName +
                                              ", found " + found(current_),
                                          current_.position);
        }
        value.text = current_.text;
        valuePosition_ = current_.position;
        advance();
        return value;
    }

    void compile_pattern(Node& node) {
        const std::string& pattern = node.values.front().text;
        check_pattern_complexity(pattern, valuePosition_);
        re2::RE2::Options options;
        options.set_case_sensitive(false);
        options.set_log_errors(false);
        auto compiled = std::make_shared<const re2::RE2>(pattern, options);
        if (!compiled->ok())
            throw DeviceFilterSyntaxError("invalid regular expression \"" + pattern + "\": " + compiled->error(),
                                          valuePosition_);
        node.pattern = std::move(compiled);
    }

    Lexer lexer_;
    Token current_;
    std::size_t valuePosition_ = 0;
};

// Evaluates with `lookup(property)` returning the property's value, or nullptr when it is null.
template <class Lookup>
bool evaluate(const Node& node, const Lookup& lookup) {
    switch (node.kind) {
        case Node::Kind::Or:
            for (const auto& child : node.children)
                if (evaluate(child, lookup)) return true;
            return false;
        case Node::Kind::And:
            for (const auto& child : node.children)
                if (!evaluate(child, lookup)) return false;
            return true;
        case Node::Kind::Not: return !evaluate(node.children.front(), lookup);
        case Node::Kind::Comparison: break;
    }
    const std::string* value = lookup(node.property);
    // A null property satisfies no positive operator; every negative operator is the negation
    // of its positive one, so it is satisfied by null (Microsoft's rule for unregistered devices).
    bool positive = false;
    if (value) {
        const std::string& expected = node.values.front().text;
        switch (node.op) {
            case Op::Eq: positive = same_text(*value, expected); break;
            case Op::StartsWith: positive = starts_with(*value, expected); break;
            case Op::EndsWith: positive = ends_with(*value, expected); break;
            case Op::Contains: positive = contains(*value, expected); break;
            case Op::In:
                for (const auto& candidate : node.values)
                    if (same_text(*value, candidate.text)) positive = true;
                break;
            case Op::Match: positive = re2::RE2::PartialMatch(*value, *node.pattern); break;
        }
    }
    return positive != node.negated;
}

void print_value(std::string& out, const Node::Value& value) {
    if (!value.quoted) {
        out += value.text;
        return;
    }
    // In "..." a backslash or backtick before the closing quote would escape it, so a value ending
    // with one is printed between \"...\" (the doubly escaped form the lexer also reads), where
    // only \" closes and a quote inside is written `" (found by fuzz_device_filter).
    const bool escapedForm = !value.text.empty() && (value.text.back() == '\\' || value.text.back() == '`');
    out += escapedForm ? "\\\"" : "\"";
    for (char c : value.text) {
        if (c == '"') out += escapedForm ? '`' : '\\';
        out += c;
    }
    out += escapedForm ? "\\\"" : "\"";
}

void print(std::string& out, const Node& node) {
    switch (node.kind) {
        case Node::Kind::Or:
        case Node::Kind::And: {
            const char* separator = node.kind == Node::Kind::Or ? " -or " : " -and ";
            for (std::size_t i = 0; i < node.children.size(); ++i) {
                if (i > 0) out += separator;
                const Node& child = node.children[i];
                bool parenthesise = node.kind == Node::Kind::And && child.kind == Node::Kind::Or;
                if (parenthesise) out += '(';
                print(out, child);
                if (parenthesise) out += ')';
            }
            return;
        }
        case Node::Kind::Not: {
            const Node& child = node.children.front();
            out += "-not ";
            bool parenthesise = child.kind != Node::Kind::Not;
            if (parenthesise) out += '(';
            print(out, child);
            if (parenthesise) out += ')';
            return;
        }
        case Node::Kind::Comparison: break;
    }
    out += "device.";
    out += node.propertySpelling;
    out += ' ';
    for (const auto& o : kOperators)
        if (o.op == node.op && o.negated == node.negated) out += o.name;
    out += ' ';
    if (node.op == Op::In) {
        out += '[';
        for (std::size_t i = 0; i < node.values.size(); ++i) {
            if (i > 0) out += ", ";
            print_value(out, node.values[i]);
        }
        out += ']';
    } else {
        print_value(out, node.values.front());
    }
}

}  // namespace

DeviceFilterRule DeviceFilterRule::parse(const std::string& text) {
    DeviceFilterRule rule;
    rule.root_ = std::make_shared<const Node>(Parser(text).parse_rule());
    return rule;
}

bool DeviceFilterRule::matches(const std::map<std::string, std::optional<std::string>>& device) const {
    return evaluate(*root_, [&](const std::string& property) -> const std::string* {
        auto it = device.find(property);
        return it != device.end() && it->second ? &*it->second : nullptr;
    });
}

bool DeviceFilterRule::matches_unregistered_device() const {
    return evaluate(*root_, [](const std::string&) -> const std::string* { return nullptr; });
}

std::string DeviceFilterRule::to_string() const {
    std::string out;
    print(out, *root_);
    return out;
}

}  // namespace tenantscan
