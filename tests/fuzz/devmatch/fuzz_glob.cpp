// Fuzzes the modalias glob against glibc's fnmatch(3) with no flags, the
// function module autoload uses: pattern and text are the input split at
// its first NUL. Patterns with POSIX bracket classes ("[:alpha:]" and the
// like), which alias patterns never hold and glob_match does not know, and
// patterns with an unterminated set are left out of the comparison.
#include <fnmatch.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <string>

#include "../../unit/devmatch/glob_oracle.h"
#include "lib/devmatch/glob.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    std::string input(reinterpret_cast<const char*>(data), size);
    size_t split = input.find('\0');
    std::string pattern = input.substr(0, split);
    std::string text = split == std::string::npos ? std::string() : input.substr(split + 1);
    text = text.substr(0, text.find('\0'));
    if (pattern.size() > 64 || text.size() > 64)
        return 0;
    bool ours = keel::devmatch::glob_match(pattern.c_str(), text.c_str());
    if (pattern.find("[:") != std::string::npos || pattern.find("[=") != std::string::npos
        || pattern.find("[.") != std::string::npos || !devmatch_test::sets_closed(pattern))
        return 0;
    bool theirs = fnmatch(pattern.c_str(), text.c_str(), 0) == 0;
    if (ours != theirs)
        abort();
    return 0;
}
