#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <vector>

#include <tenantscan/collect.hpp>

namespace tenantscan::collect {

void write_snapshot_file(const nlohmann::json& snapshot, const std::string& path) {
    std::string text = snapshot.dump(2) + "\n";
    // The temporary file sits beside the target so rename() stays within one file system.
    // mkstemp creates it 0600: a snapshot lists the tenant's users and settings.
    std::string pattern = path + ".tmp-XXXXXX";
    std::vector<char> name(pattern.begin(), pattern.end());
    name.push_back('\0');
    int fd = ::mkstemp(name.data());
    if (fd < 0) throw std::runtime_error(path + ": cannot create a temporary file beside it: " + std::strerror(errno));
    auto fail = [&](const char* what) {
        int error = errno;
        ::close(fd);
        ::unlink(name.data());
        throw std::runtime_error(path + ": " + what + ": " + std::strerror(error));
    };
    for (std::size_t written = 0; written < text.size();) {
        ssize_t n = ::write(fd, text.data() + written, text.size() - written);
        if (n < 0) {
            if (errno == EINTR) continue;
            fail("cannot write");
        }
        written += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0) fail("cannot flush");
    if (::close(fd) != 0) {
        int error = errno;
        ::unlink(name.data());
        throw std::runtime_error(path + ": cannot close: " + std::strerror(error));
    }
    if (std::rename(name.data(), path.c_str()) != 0) {
        int error = errno;
        ::unlink(name.data());
        throw std::runtime_error(path + ": cannot rename the temporary file into place: " + std::strerror(error));
    }
}

}  // namespace tenantscan::collect
