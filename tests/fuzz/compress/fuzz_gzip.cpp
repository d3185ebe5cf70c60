// Fuzzes the gzip decoder, with zlib as the oracle: the decoder keeps
// zlib's rules (the incomplete codes it allows, the header and trailer
// checks, no distance reaching before a member), so whatever one accepts
// the other must accept with the same output, and what one refuses the
// other must refuse.
//
// Random bytes rarely carry a matching CRC-32, so each input is also read
// as raw DEFLATE: zlib inflates it, and the decoder must agree on a gzip
// member built around it with the trailer zlib's output implies.
#include <zlib.h>

#include "fuzz_common.h"

using namespace compress_fuzz;

namespace {

enum class Zlib { Ok, Refused, TooBig };

// Inflates every member with zlib, as gzip -d does, but with no
// tolerance for trailing bytes (neither has the decoder).
Zlib zlib_gunzip(const uint8_t* data, size_t size, std::vector<uint8_t>& output)
{
    if (size == 0)
        return Zlib::Refused;
    static std::vector<uint8_t> buffer(kOutputBound);
    z_stream stream {};
    if (inflateInit2(&stream, 16 + 15) != Z_OK)
        abort();
    stream.next_in = const_cast<uint8_t*>(data);
    stream.avail_in = uInt(size);
    stream.next_out = buffer.data();
    stream.avail_out = uInt(buffer.size());
    Zlib outcome = Zlib::Refused;
    for (;;) {
        int status = inflate(&stream, Z_NO_FLUSH);
        if (status == Z_STREAM_END) {
            if (stream.avail_in == 0) {
                outcome = Zlib::Ok;
                break;
            }
            inflateReset(&stream);
            continue;
        }
        if (status == Z_OK)
            continue;
        if (status == Z_BUF_ERROR && stream.avail_out == 0)
            outcome = Zlib::TooBig;
        break;
    }
    output.assign(buffer.data(), buffer.data() + (buffer.size() - stream.avail_out));
    inflateEnd(&stream);
    return outcome;
}

enum class Raw { Ok, Malformed, Other };

Raw zlib_inflate_raw(const uint8_t* data, size_t size, std::vector<uint8_t>& output, size_t& consumed)
{
    static std::vector<uint8_t> buffer(kOutputBound);
    z_stream stream {};
    if (inflateInit2(&stream, -15) != Z_OK)
        abort();
    stream.next_in = const_cast<uint8_t*>(data);
    stream.avail_in = uInt(size);
    stream.next_out = buffer.data();
    stream.avail_out = uInt(buffer.size());
    int status;
    do
        status = inflate(&stream, Z_NO_FLUSH);
    while (status == Z_OK);
    consumed = stream.total_in;
    output.assign(buffer.data(), buffer.data() + stream.total_out);
    inflateEnd(&stream);
    if (status == Z_STREAM_END)
        return Raw::Ok;
    return status == Z_DATA_ERROR ? Raw::Malformed : Raw::Other;
}

std::vector<uint8_t> gzip_member(const uint8_t* deflate, size_t size, const std::vector<uint8_t>& content)
{
    std::vector<uint8_t> member = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3 };
    member.insert(member.end(), deflate, deflate + size);
    uint32_t crc = uint32_t(crc32(0, content.data(), uInt(content.size())));
    uint32_t length = uint32_t(content.size());
    for (int i = 0; i < 4; ++i)
        member.push_back(uint8_t(crc >> (8 * i)));
    for (int i = 0; i < 4; ++i)
        member.push_back(uint8_t(length >> (8 * i)));
    return member;
}

void check_raw(const uint8_t* data, size_t size)
{
    std::vector<uint8_t> content;
    size_t consumed = 0;
    Raw raw = zlib_inflate_raw(data, size, content, consumed);
    if (raw == Raw::Ok) {
        std::vector<uint8_t> member = gzip_member(data, consumed, content);
        Outcome ours = decode_both(keel::CompressionFormat::Gzip, member.data(), member.size());
        check(ours.ok);
        check(ours.output == content);
    } else if (raw == Raw::Malformed) {
        std::vector<uint8_t> member = gzip_member(data, size, content);
        Outcome ours = decode_both(keel::CompressionFormat::Gzip, member.data(), member.size());
        check(!ours.ok);
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    Outcome ours = decode_both(keel::CompressionFormat::Gzip, data, size);
    std::vector<uint8_t> theirs;
    Zlib zlib = zlib_gunzip(data, size, theirs);
    if (ours.ok) {
        check(zlib == Zlib::Ok);
        check(ours.output == theirs);
    } else if (ours.error == keel::Error::ENOSPC) {
        check(zlib != Zlib::Ok || theirs.size() == kOutputBound);
    } else {
        check(zlib != Zlib::Ok);
    }
    check_raw(data, size);
    return 0;
}
