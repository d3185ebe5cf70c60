// gen_init_cpio: builds a cpio newc archive (an initramfs) from a spec in
// the format of Linux's usr/gen_init_cpio, one entry per line:
//
//   file <name> <location> <mode> <uid> <gid> [<hard links>...]
//   dir <name> <mode> <uid> <gid>
//   nod <name> <mode> <uid> <gid> <dev_type> <maj> <min>
//   slink <name> <target> <mode> <uid> <gid>
//   pipe <name> <mode> <uid> <gid>
//   sock <name> <mode> <uid> <gid>
//
// Usage: gen_init_cpio [-o OUTPUT] [-t TIMESTAMP] [-c] [--depfile FILE] SPEC
//
// Unlike Linux's tool, every mtime defaults to 0 rather than the clock or
// the files' own mtimes, so the same inputs always give the same bytes
// (reproducible builds); -t sets another. The archive is written only if
// the whole spec is valid, so a failed build leaves no half-written image.
// docs/initramfs.md describes the format and the checks.
#include "tool.h"
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <string>
#include <vector>

using namespace keel::tools;

namespace {

const char* const kUsage = "usage: gen_init_cpio [-o OUTPUT] [-t TIMESTAMP] [-c] [--depfile FILE] SPEC\n"
                           "  SPEC             the entry list ('-' for standard input), one entry per line:\n"
                           "                     file <name> <location> <mode> <uid> <gid> [<hard links>...]\n"
                           "                     dir <name> <mode> <uid> <gid>\n"
                           "                     nod <name> <mode> <uid> <gid> <dev_type> <maj> <min>\n"
                           "                     slink <name> <target> <mode> <uid> <gid>\n"
                           "                     pipe <name> <mode> <uid> <gid>\n"
                           "                     sock <name> <mode> <uid> <gid>\n"
                           "                   <location> expands ${VAR}; <mode> is octal; <dev_type> is b or c\n"
                           "  -o OUTPUT        write the archive there (default: standard output)\n"
                           "  -t TIMESTAMP     mtime of every entry, seconds since 1970 (default: 0)\n"
                           "  -c               newc with checksums (magic 070702)\n"
                           "  --depfile FILE   write a Makefile dependency line for OUTPUT\n";

// Values Linux's tool writes too, so archives compare easily: inode
// numbers count up from 721 and every entry claims device 3:1.
constexpr uint32_t kFirstIno = 721;
constexpr uint32_t kDevMajor = 3;
constexpr uint32_t kDevMinor = 1;
constexpr size_t kPathMax = 4096; // names and symlink targets, NUL included

constexpr uint32_t kTypeFifo = 0010000;
constexpr uint32_t kTypeChar = 0020000;
constexpr uint32_t kTypeDir = 0040000;
constexpr uint32_t kTypeBlock = 0060000;
constexpr uint32_t kTypeRegular = 0100000;
constexpr uint32_t kTypeSymlink = 0120000;
constexpr uint32_t kTypeSocket = 0140000;

struct Header {
    uint32_t ino = 0;
    uint32_t mode = 0;
    uint32_t uid = 0;
    uint32_t gid = 0;
    uint32_t nlink = 1;
    uint32_t mtime = 0;
    uint32_t rdev_major = 0;
    uint32_t rdev_minor = 0;
    uint32_t dev_major = kDevMajor;
    uint32_t dev_minor = kDevMinor;
    uint32_t check = 0;
};

class Archive {
public:
    explicit Archive(bool with_checksum)
        : m_with_checksum(with_checksum)
    {
    }

    void add(const Header& header, const std::string& name, const std::string& data)
    {
        uint32_t check = header.check;
        if (m_with_checksum && (header.mode & 0170000) == kTypeRegular) {
            check = 0;
            for (unsigned char c : data)
                check += c;
        }
        char text[111];
        snprintf(text, sizeof(text), "%s%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
            m_with_checksum ? "070702" : "070701", header.ino, header.mode, header.uid, header.gid, header.nlink,
            header.mtime, uint32_t(data.size()), header.dev_major, header.dev_minor, header.rdev_major,
            header.rdev_minor, uint32_t(name.size() + 1), check);
        m_bytes.append(text, 110);
        m_bytes += name;
        m_bytes += '\0';
        pad(4);
        m_bytes += data;
        pad(4);
    }

    void finish()
    {
        Header trailer;
        trailer.dev_major = 0;
        trailer.dev_minor = 0;
        add(trailer, "TRAILER!!!", "");
        // Linux's tool pads to 512 bytes too (the old tape block size).
        pad(512);
    }

    const std::string& bytes() const { return m_bytes; }

private:
    void pad(size_t alignment)
    {
        while (m_bytes.size() % alignment != 0)
            m_bytes += '\0';
    }

    bool m_with_checksum;
    std::string m_bytes;
};

struct Options {
    std::string output; // empty: standard output
    std::string depfile;
    std::string spec;
    uint32_t mtime = 0;
    bool with_checksum = false;
};

class SpecReader {
public:
    SpecReader(const Options& options, Archive& archive)
        : m_options(options)
        , m_archive(archive)
    {
    }

    // Reads every line, reporting each bad one; true if all were good.
    bool read(const std::vector<uint8_t>& spec)
    {
        std::string line;
        for (size_t i = 0; i <= spec.size(); ++i) {
            if (i < spec.size() && spec[i] != '\n') {
                line += char(spec[i]);
                continue;
            }
            ++m_line;
            if (i < spec.size() || !line.empty())
                handle(line);
            line.clear();
        }
        return m_errors == 0;
    }

    const std::vector<std::string>& inputs() const { return m_inputs; }

private:
    void error(const char* fmt, ...) __attribute__((format(printf, 2, 3)))
    {
        fprintf(stderr, "%s:%u: error: ", m_options.spec.c_str(), m_line);
        va_list args;
        va_start(args, fmt);
        vfprintf(stderr, fmt, args);
        va_end(args);
        fputc('\n', stderr);
        ++m_errors;
    }

    static std::vector<std::string> split(const std::string& line)
    {
        std::vector<std::string> words;
        size_t i = 0;
        while (i < line.size()) {
            while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
                ++i;
            size_t start = i;
            while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
                ++i;
            if (i > start)
                words.push_back(line.substr(start, i - start));
        }
        return words;
    }

    void handle(const std::string& line)
    {
        std::vector<std::string> words = split(line);
        if (words.empty() || words[0][0] == '#')
            return;
        const std::string& type = words[0];
        std::vector<std::string> args(words.begin() + 1, words.end());
        if (type == "file")
            add_file(args);
        else if (type == "dir")
            add_simple(args, kTypeDir, "dir", 2);
        else if (type == "nod")
            add_node(args);
        else if (type == "slink")
            add_symlink(args);
        else if (type == "pipe")
            add_simple(args, kTypeFifo, "pipe", 1);
        else if (type == "sock")
            add_simple(args, kTypeSocket, "sock", 1);
        else
            error("unknown entry type \"%s\" (expected file, dir, nod, slink, pipe or sock)", type.c_str());
    }

    bool check_count(const std::vector<std::string>& args, size_t want, const char* what, const char* usage)
    {
        if (args.size() == want)
            return true;
        error("%s takes %zu arguments (%s), got %zu", what, want, usage, args.size());
        return false;
    }

    // The archive name as written: leading "/" removed, and only names the
    // kernel's reader accepts ("/" alone, for a dir, is written ".").
    bool parse_name(const std::string& text, std::string& name, bool allow_root)
    {
        size_t start = text.find_first_not_of('/');
        if (start == std::string::npos) {
            if (!allow_root) {
                error("name \"%s\" is the root directory; only a dir entry can describe it", text.c_str());
                return false;
            }
            name = ".";
            return true;
        }
        name = text.substr(start);
        if (name.size() + 1 > kPathMax) {
            error("name \"%s...\" is longer than %zu bytes", name.substr(0, 32).c_str(), kPathMax - 1);
            return false;
        }
        size_t begin = 0;
        while (begin <= name.size()) {
            size_t end = name.find('/', begin);
            if (end == std::string::npos)
                end = name.size();
            std::string component = name.substr(begin, end - begin);
            if (component.empty() || component == "." || component == "..") {
                error("name \"%s\" has a \"%s\" path component (write a plain path such as /etc/hostname)",
                    text.c_str(), component.c_str());
                return false;
            }
            begin = end + 1;
        }
        return true;
    }

    // Octal (base 8) numbers are modes, up to 07777; decimal ones 32 bits.
    bool parse_number(const std::string& text, int base, const char* what, uint32_t& value)
    {
        const char* digits = base == 8 ? "01234567" : "0123456789";
        if (text.empty() || text.find_first_not_of(digits) != std::string::npos || text.size() > 12) {
            error("%s \"%s\" is not a%s number", what, text.c_str(), base == 8 ? "n octal" : " decimal");
            return false;
        }
        uint64_t parsed = strtoull(text.c_str(), nullptr, base);
        uint64_t max = base == 8 ? 07777 : 0xffffffff;
        if (parsed > max) {
            error("%s \"%s\" is out of range (at most %s)", what, text.c_str(), base == 8 ? "07777" : "4294967295");
            return false;
        }
        value = uint32_t(parsed);
        return true;
    }

    // <mode> <uid> <gid> starting at args[first].
    bool parse_owner(const std::vector<std::string>& args, size_t first, uint32_t type, Header& header)
    {
        uint32_t permissions;
        if (!parse_number(args[first], 8, "mode", permissions) || !parse_number(args[first + 1], 10, "uid", header.uid)
            || !parse_number(args[first + 2], 10, "gid", header.gid))
            return false;
        header.mode = type | permissions;
        header.mtime = m_options.mtime;
        return true;
    }

    void add_simple(const std::vector<std::string>& args, uint32_t type, const char* what, uint32_t nlink)
    {
        if (!check_count(args, 4, what, "<name> <mode> <uid> <gid>"))
            return;
        std::string name;
        Header header;
        if (!parse_name(args[0], name, type == kTypeDir) || !parse_owner(args, 1, type, header))
            return;
        header.ino = m_ino++;
        header.nlink = nlink;
        m_archive.add(header, name, "");
    }

    void add_node(const std::vector<std::string>& args)
    {
        if (!check_count(args, 7, "nod", "<name> <mode> <uid> <gid> <dev_type> <maj> <min>"))
            return;
        uint32_t type;
        if (args[4] == "b") {
            type = kTypeBlock;
        } else if (args[4] == "c") {
            type = kTypeChar;
        } else {
            error("dev_type \"%s\" is neither b (block) nor c (character)", args[4].c_str());
            return;
        }
        std::string name;
        Header header;
        if (!parse_name(args[0], name, false) || !parse_owner(args, 1, type, header)
            || !parse_number(args[5], 10, "major", header.rdev_major)
            || !parse_number(args[6], 10, "minor", header.rdev_minor))
            return;
        header.ino = m_ino++;
        m_archive.add(header, name, "");
    }

    void add_symlink(const std::vector<std::string>& args)
    {
        if (!check_count(args, 5, "slink", "<name> <target> <mode> <uid> <gid>"))
            return;
        std::string name;
        Header header;
        if (!parse_name(args[0], name, false) || !parse_owner(args, 2, kTypeSymlink, header))
            return;
        const std::string& target = args[1];
        if (target.size() + 1 > kPathMax) {
            error("symlink target is longer than %zu bytes", kPathMax - 1);
            return;
        }
        header.ino = m_ino++;
        m_archive.add(header, name, target);
    }

    // ${VAR} in a location expands to the environment variable, as in
    // Linux's tool; an unset variable is an error rather than "".
    bool expand(const std::string& text, std::string& out)
    {
        out.clear();
        size_t i = 0;
        while (i < text.size()) {
            if (text.compare(i, 2, "${") != 0) {
                out += text[i++];
                continue;
            }
            size_t close = text.find('}', i + 2);
            if (close == std::string::npos) {
                error("unterminated \"${\" in location \"%s\"", text.c_str());
                return false;
            }
            std::string variable = text.substr(i + 2, close - i - 2);
            const char* value = variable.empty() ? nullptr : getenv(variable.c_str());
            if (!value) {
                error("environment variable \"%s\" in location \"%s\" is not set", variable.c_str(), text.c_str());
                return false;
            }
            out += value;
            i = close + 1;
        }
        return true;
    }

    bool read_file(const std::string& location, std::string& data)
    {
        // A newc entry holds at most 4 GiB - 1.
        try {
            std::vector<uint8_t> bytes = keel::tools::read_file(location, 0xffffffffu);
            data.assign(bytes.begin(), bytes.end());
        } catch (const Failure& failure) {
            error("%s", failure.message.c_str());
            return false;
        }
        m_inputs.push_back(location);
        return true;
    }

    void add_file(const std::vector<std::string>& args)
    {
        if (args.size() < 5) {
            error("file takes at least 5 arguments (<name> <location> <mode> <uid> <gid> [<hard links>...]), got %zu",
                args.size());
            return;
        }
        std::vector<std::string> names(1);
        Header header;
        if (!parse_name(args[0], names[0], false) || !parse_owner(args, 2, kTypeRegular, header))
            return;
        for (size_t i = 5; i < args.size(); ++i) {
            names.emplace_back();
            if (!parse_name(args[i], names.back(), false))
                return;
        }
        std::string location;
        std::string data;
        if (!expand(args[1], location) || !read_file(location, data))
            return;
        // Hard links share one inode; the data goes with the last name only,
        // which is where Linux's unpacker expects it.
        header.ino = m_ino++;
        header.nlink = uint32_t(names.size());
        for (size_t i = 0; i < names.size(); ++i)
            m_archive.add(header, names[i], i + 1 == names.size() ? data : std::string());
    }

    const Options& m_options;
    Archive& m_archive;
    unsigned m_line = 0;
    unsigned m_errors = 0;
    uint32_t m_ino = kFirstIno;
    std::vector<std::string> m_inputs;
};

std::string escape_make(const std::string& path)
{
    std::string out;
    for (char c : path) {
        if (c == ' ' || c == '#' || c == '\\')
            out += '\\';
        if (c == '$')
            out += '$';
        out += c;
    }
    return out;
}

std::string depfile_line(const Options& options, const std::vector<std::string>& inputs)
{
    std::string text = escape_make(options.output.empty() ? "-" : options.output) + ":";
    if (options.spec != "-")
        text += " " + escape_make(options.spec);
    for (const std::string& input : inputs)
        text += " " + escape_make(input);
    return text + "\n";
}

uint32_t parse_timestamp(const std::string& value)
{
    if (value.empty() || value.size() > 10 || value.find_first_not_of("0123456789") != std::string::npos
        || strtoull(value.c_str(), nullptr, 10) > 0xffffffffu)
        usage_error("-t " + value + ": not a timestamp (seconds, 0 to 4294967295)");
    return uint32_t(strtoull(value.c_str(), nullptr, 10));
}

} // namespace

int main(int argc, char** argv)
{
    return run_tool("gen_init_cpio", kUsage, [&] {
        Options options;
        for (int i = 1; i < argc; ++i) {
            std::string arg = argv[i];
            bool has_value = i + 1 < argc;
            if (arg == "-h" || arg == "--help")
                show_help();
            else if (arg == "-c")
                options.with_checksum = true;
            else if (arg == "-o" && has_value)
                options.output = argv[++i];
            else if (arg == "--depfile" && has_value)
                options.depfile = argv[++i];
            else if (arg == "-t" && has_value)
                options.mtime = parse_timestamp(argv[++i]);
            else if ((arg.size() > 1 && arg[0] == '-') || !options.spec.empty())
                usage_error("unexpected argument \"" + arg + "\"");
            else
                options.spec = arg;
        }
        if (options.spec.empty())
            usage_error();

        std::vector<uint8_t> spec = options.spec == "-" ? read_standard_input() : read_file(options.spec);
        Archive archive(options.with_checksum);
        SpecReader reader(options, archive);
        if (!reader.read(spec))
            return 1;
        archive.finish();
        if (options.output.empty())
            write_standard_output(archive.bytes());
        else
            write_file_atomically(options.output, archive.bytes());
        if (!options.depfile.empty())
            write_file_atomically(options.depfile, depfile_line(options, reader.inputs()));
        return 0;
    });
}
