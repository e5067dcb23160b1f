// scan_benchmark (issue 6 §2): prints, for the synthetic tenants S, M and L, the wall time and peak RSS of
// the whole `tenantscan scan --format json` process, its phase split (`--timings`), and the time
// nlohmann/json needs merely to parse the same file into a DOM (the floor for a DOM-based design),
// measured in the same run. A program that prints figures, not a test: nothing here passes or fails.
//
//   scan_benchmark --tenantscan PATH --generator PATH [--work DIR] [--sizes S,M,L] [--runs N] [--seed N]
//
// Each measurement runs in a child process of its own (fork + exec, or fork for the DOM parse) so that
// its peak RSS is its own (wait4's ru_maxrss). Each figure is the median of --runs runs (default 3); the
// load average is printed beside each size, since the machine may be shared.
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace {

using Clock = std::chrono::steady_clock;

struct Run {
    int status = -1;
    double wallSeconds = 0;
    double peakRssMiB = 0;
    std::string err;  // the child's standard error
};

[[noreturn]] void die(const std::string& message) {
    std::fprintf(stderr, "scan_benchmark: %s\n", message.c_str());
    std::exit(2);
}

// Forks; the child runs `child(fd)` with fd the write end of a pipe and must not return. The parent
// collects what the child writes there, its wall time and its peak RSS.
template <class Child>
Run run_child(Child child) {
    int pipeFds[2];
    if (pipe(pipeFds) != 0) die("pipe failed");
    const auto start = Clock::now();
    pid_t pid = fork();
    if (pid < 0) die("fork failed");
    if (pid == 0) {
        close(pipeFds[0]);
        child(pipeFds[1]);
        _exit(127);
    }
    close(pipeFds[1]);
    Run run;
    char buffer[4096];
    for (ssize_t n; (n = read(pipeFds[0], buffer, sizeof buffer)) > 0;) run.err.append(buffer, static_cast<std::size_t>(n));
    close(pipeFds[0]);
    int status = 0;
    rusage usage{};
    wait4(pid, &status, 0, &usage);
    run.wallSeconds = std::chrono::duration<double>(Clock::now() - start).count();
    run.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    run.peakRssMiB = static_cast<double>(usage.ru_maxrss) / 1024.0;
    return run;
}

// Runs argv with standard output to /dev/null and standard error captured.
Run run_process(const std::vector<std::string>& argv) {
    return run_child([&](int errFd) {
        int devNull = open("/dev/null", O_WRONLY);
        dup2(devNull, STDOUT_FILENO);
        dup2(errFd, STDERR_FILENO);
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        execv(args[0], args.data());
        std::fprintf(stderr, "exec %s: %s\n", args[0], std::strerror(errno));
    });
}

// The floor: read the file, then time nlohmann::json::parse alone, in a child (for its own peak RSS).
Run dom_parse(const std::string& path, double& parseSeconds) {
    Run run = run_child([&](int outFd) {
        std::ifstream in(path, std::ios::binary);
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        const auto parseStart = Clock::now();
        nlohmann::json document = nlohmann::json::parse(text);
        double seconds = std::chrono::duration<double>(Clock::now() - parseStart).count();
        std::string answer = std::to_string(seconds) + (document.is_object() ? "" : " not-an-object");
        if (write(outFd, answer.data(), answer.size()) < 0) _exit(1);
        _exit(0);  // no destructor: freeing the DOM is not part of parsing it
    });
    parseSeconds = std::atof(run.err.c_str());
    return run;
}

double median(std::vector<double> values) {
    if (values.empty()) return 0;
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
}

std::string load_average() {
    std::ifstream in("/proc/loadavg");
    std::string one, five, fifteen;
    in >> one >> five >> fifteen;
    return one + " " + five + " " + fifteen;
}

// "timing PHASE SECONDS" lines of `scan --timings`.
std::map<std::string, double> parse_timings(const std::string& err) {
    std::map<std::string, double> timings;
    std::istringstream lines(err);
    for (std::string line; std::getline(lines, line);) {
        std::istringstream words(line);
        std::string tag, phase;
        double seconds = 0;
        if (words >> tag >> phase >> seconds && tag == "timing") timings[phase] = seconds;
    }
    return timings;
}

struct Result {
    std::string size;
    double fileMiB = 0;
    std::map<std::string, double> phases;  // medians
    double wall = 0, rss = 0, domParse = 0, domWall = 0, domRss = 0;
    std::string load;
};

}  // namespace

int main(int argc, char** argv) {
    std::string tenantscan, generator, work = "bench-work", sizesArg = "S,M,L", seed = "1";
    int runs = 3;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) die("missing value after " + arg);
            return argv[++i];
        };
        if (arg == "--tenantscan") tenantscan = value();
        else if (arg == "--generator") generator = value();
        else if (arg == "--work") work = value();
        else if (arg == "--sizes") sizesArg = value();
        else if (arg == "--runs") runs = std::max(1, std::atoi(value().c_str()));
        else if (arg == "--seed") seed = value();
        else die("unknown argument " + arg +
                 " (usage: scan_benchmark --tenantscan PATH --generator PATH [--work DIR] [--sizes S,M,L] [--runs N] [--seed N])");
    }
    if (tenantscan.empty() || generator.empty()) die("--tenantscan and --generator are required");
    mkdir(work.c_str(), 0755);

    std::vector<std::string> sizes;
    for (std::stringstream list(sizesArg); std::getline(list, sizesArg, ',');) sizes.push_back(sizesArg);

    std::printf("# scan_benchmark: %d run(s) per figure, median shown; seed %s\n", runs, seed.c_str());
    std::vector<Result> results;
    for (const auto& size : sizes) {
        Result result;
        result.size = size;
        const std::string file = work + "/tenant-" + size + "-seed" + seed + ".json";
        struct stat info{};
        if (stat(file.c_str(), &info) != 0) {
            Run generated = run_process({generator, "--size", size, "--seed", seed, "--output", file});
            if (generated.status != 0) die("generating " + file + " failed: " + generated.err);
            stat(file.c_str(), &info);
        }
        result.fileMiB = static_cast<double>(info.st_size) / (1024.0 * 1024.0);
        result.load = load_average();

        std::vector<double> walls, rsss, domParses, domWalls, domRsss;
        std::map<std::string, std::vector<double>> phases;
        for (int r = 0; r < runs; ++r) {
            double parseSeconds = 0;
            Run dom = dom_parse(file, parseSeconds);
            if (dom.status != 0) die("the DOM parse of " + file + " failed");
            domParses.push_back(parseSeconds);
            domWalls.push_back(dom.wallSeconds);
            domRsss.push_back(dom.peakRssMiB);

            Run scan = run_process({tenantscan, "scan", file, "--format", "json", "--no-config", "--as-of",
                                    "2026-11-27", "--timings"});
            if (scan.status != 0 && scan.status != 1) die("tenantscan scan " + file + " failed: " + scan.err);
            walls.push_back(scan.wallSeconds);
            rsss.push_back(scan.peakRssMiB);
            for (const auto& [phase, seconds] : parse_timings(scan.err)) phases[phase].push_back(seconds);
            std::fprintf(stderr, "  %s run %d: scan %.2f s %.0f MiB, DOM parse %.2f s (load %s)\n", size.c_str(), r + 1,
                         scan.wallSeconds, scan.peakRssMiB, parseSeconds, load_average().c_str());
        }
        result.wall = median(walls);
        result.rss = median(rsss);
        result.domParse = median(domParses);
        result.domWall = median(domWalls);
        result.domRss = median(domRsss);
        for (auto& [phase, values] : phases) result.phases[phase] = median(values);
        results.push_back(result);
    }

    std::printf("\n| size | file MiB | scan wall s | peak RSS MiB | RSS/file | read s | parse s | model s | index s | "
                "rules s | report s | DOM parse s | scan/DOM | DOM peak RSS MiB | load avg |\n");
    std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (const auto& r : results) {
        auto phase = [&](const char* name) { auto it = r.phases.find(name); return it == r.phases.end() ? 0.0 : it->second; };
        std::printf("| %s | %.1f | %.2f | %.0f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.0f | %s |\n",
                    r.size.c_str(), r.fileMiB, r.wall, r.rss, r.rss / r.fileMiB, phase("read"), phase("parse"),
                    phase("model"), phase("index"), phase("rules"), phase("report"), r.domParse, r.wall / r.domParse,
                    r.domRss, r.load.c_str());
    }
    std::printf("\nGrowth (each figure divided by the previous size's; the file grows by the first column):\n");
    std::printf("| from → to | file | scan wall | peak RSS | rules | DOM parse |\n|---|---|---|---|---|---|\n");
    for (std::size_t i = 1; i < results.size(); ++i) {
        const auto& a = results[i - 1];
        const auto& b = results[i];
        auto ratio = [](double x, double y) { return y > 0 ? x / y : 0.0; };
        std::printf("| %s → %s | %.1f× | %.1f× | %.1f× | %.1f× | %.1f× |\n", a.size.c_str(), b.size.c_str(),
                    ratio(b.fileMiB, a.fileMiB), ratio(b.wall, a.wall), ratio(b.rss, a.rss),
                    ratio(b.phases.count("rules") ? b.phases.at("rules") : 0, a.phases.count("rules") ? a.phases.at("rules") : 0),
                    ratio(b.domParse, a.domParse));
    }
    std::printf("\nSlowest rules (median seconds):\n");
    for (const auto& r : results) {
        std::vector<std::pair<double, std::string>> rules;
        for (const auto& [phase, seconds] : r.phases)
            if (phase.rfind("rule:", 0) == 0) rules.emplace_back(seconds, phase.substr(5));
        std::sort(rules.rbegin(), rules.rend());
        std::printf("  %s:", r.size.c_str());
        for (std::size_t i = 0; i < rules.size() && i < 4; ++i) std::printf(" %s %.3f;", rules[i].second.c_str(), rules[i].first);
        std::printf("\n");
    }
    return 0;
}
