// Shared test helpers: inline tenant fragments, temporary files, running the CLI.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <tenantscan/model.hpp>

namespace testsupport {

// Paths fixed at build time.
std::string source_dir();
std::string binary_dir();   // the build tree (test artifacts go to binary_dir()/test-artifacts)
std::string data_dir();          // tests/data: everything the suite reads, vendored (tests/data/README.md)
std::string corpus_dir();        // tests/data/corpus: the curated real-world corpus
std::string full_corpus_dir();   // the whole corpus CI provides beside the checkout (may be absent)
std::string sarif_schema_path(); // tests/data/schemas/sarif-schema-2.1.0.json
std::string cli_path();     // the built tenantscan executable

// Decodes an inline snapshot document (the same code as load_snapshot, without a file).
tenantscan::Snapshot snapshot_from(const nlohmann::json& document);

// A temporary file that is removed when the object goes away.
class TempFile {
public:
    explicit TempFile(const std::string& contents, const std::string& suffix = ".json");
    ~TempFile();
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

// A temporary directory, removed with its contents when the object goes away.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }
    std::string file(const std::string& name) const { return path_ + "/" + name; }

private:
    std::string path_;
};

// examples/<name>/snapshot.json in the source tree.
std::string example_snapshot(const std::string& name);

// Writes text to a file (replacing it).
void write_file(const std::string& path, const std::string& text);

struct CommandResult {
    int exitCode = -1;
    std::string out;
    std::string err;
};

// Runs a program (no shell involved), capturing stdout and stderr. `env` entries ("NAME=value")
// are added to the environment.
CommandResult run_program(const std::string& program, const std::vector<std::string>& args,
                          const std::vector<std::string>& env = {});

// Runs the CLI with the arguments, as run_program does.
CommandResult run_cli(const std::vector<std::string>& args, const std::vector<std::string>& env = {});

std::string read_file(const std::string& path);

// RFC 4648 base64 (§4, padded) or, with url, base64url (§5, unpadded): written here, independently of
// the library's encoder, so that tests can compute what an encoded secret or token looks like.
std::string base64(const std::string& bytes, bool url = false);

// Replaces every occurrence of `from` (not empty) in text by `to`, left to right, never inside what it put.
void replace_all(std::string& text, const std::string& from, const std::string& to);

}  // namespace testsupport
