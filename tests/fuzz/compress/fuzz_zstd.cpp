// Fuzzes the zstd decoder. With libzstd installed (KEEL_ZSTD_ORACLE), the
// reference decoder is the oracle: whatever this decoder accepts, libzstd
// must accept with the same output. The converse does not hold, by design:
// run the other way against libzstd 1.5.4, the differences found were all
// places where this decoder keeps a rule of RFC 8878 that libzstd does not
// enforce (blocks larger than Block_Maximum_Size, the reserved bits of the
// compression modes, a sequences bitstream not consumed exactly), windows
// above the limit set here, and libzstd's pre-1.0 legacy frame formats.
#include "fuzz_common.h"

#if KEEL_ZSTD_ORACLE
#include <zstd.h>
#endif

using namespace compress_fuzz;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    Outcome ours = decode_both(keel::CompressionFormat::Zstd, data, size);
#if KEEL_ZSTD_ORACLE
    static ZSTD_DCtx* context = ZSTD_createDCtx();
    static std::vector<uint8_t> buffer(kOutputBound);
    size_t produced = ZSTD_decompressDCtx(context, buffer.data(), buffer.size(), data, size);
    bool reference_ok = !ZSTD_isError(produced);
    if (ours.ok) {
        check(reference_ok);
        check(produced == ours.output.size());
        check(produced == 0 || memcmp(buffer.data(), ours.output.data(), produced) == 0);
    }
#endif
    return 0;
}
