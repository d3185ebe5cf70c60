// The signature trailer appended to a module (docs/module-signing.md):
//
//   ELF image | record 0 | ... | record n-1 | footer (magic at the very end)
//
// Each record signs a 104-byte header naming the key, the image length and
// the image's digest (BLAKE2b-512; SHA-512 in records of algorithm 1), so
// verifying hashes the image once and runs one Ed25519 verification over
// 104 bytes per record, whatever the size.
// ELF tools ignore bytes past the last section, so signed modules still
// read as ordinary ELF files.
//
// The loader calls verify_module_signature() on the raw file before it
// parses any ELF structure, then parses only the first image_length bytes.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/base/result.h"
#include "lib/crypto/blake2b.h"
#include "lib/crypto/keys.h"
#include "lib/crypto/sha512.h"

namespace keel {

namespace module_signature {

// Footer: u16 version, u16 record count, u32 trailer length, magic.
constexpr char footer_magic[] = "~Keel module signature~\n";
constexpr size_t footer_magic_size = sizeof(footer_magic) - 1; // 24
constexpr size_t footer_size = 8 + footer_magic_size;          // 32
constexpr uint16_t footer_version = 1;

// Record: the signed header, then the signature.
constexpr char record_magic[8] = { 'K', 'e', 'e', 'l', 'M', 'S', 'i', 'g' };
constexpr uint16_t record_version = 1;
constexpr size_t record_prefix_size = 16; // magic, length, version, algorithm: every record has them
constexpr size_t signed_header_size = 104;
constexpr size_t ed25519_record_size = signed_header_size + ed25519_signature_size; // 168

constexpr size_t max_records = 8;

} // namespace module_signature

enum class SignatureAlgorithm : uint16_t {
    // Ed25519 (RFC 8032) over the signed header; image digest SHA-512. Still
    // accepted: modules signed before BLAKE2b keep loading.
    Ed25519Sha512 = 1,
    // Ed25519 over the signed header; image digest BLAKE2b-512 (RFC 7693),
    // about twice as fast to compute as SHA-512. What kmod-sign writes.
    Ed25519Blake2b = 2,
};

// How a record's 64-byte image digest was computed.
enum class ImageDigestAlgorithm : uint8_t { Sha512, Blake2b };

struct ImageDigest {
    static constexpr size_t size = 64;
    static_assert(Sha512Digest::size == size && Blake2bDigest::size == size);
    ImageDigestAlgorithm algorithm;
    uint8_t bytes[size];
};

ImageDigest hash_module_image(ImageDigestAlgorithm algorithm, const uint8_t* image, size_t length);
// "SHA-512", "BLAKE2b-512".
const char* image_digest_name(ImageDigestAlgorithm algorithm);
// The digest a signature algorithm's records hold.
ImageDigestAlgorithm image_digest_algorithm(SignatureAlgorithm algorithm);

// One record, as views into the file. Fields after `supported` are only
// meaningful when `supported` is true (format version 1, a known algorithm).
struct SignatureRecord {
    const uint8_t* bytes; // the whole record
    size_t size;
    uint16_t version;
    uint16_t algorithm;
    bool supported;
    ImageDigestAlgorithm digest_algorithm;
    KeyId key_id;
    uint64_t image_length;
    const uint8_t* image_digest;  // ImageDigest::size bytes
    const uint8_t* signed_header; // module_signature::signed_header_size bytes
    const uint8_t* signature;     // ed25519_signature_size bytes
};

struct SignatureTrailer {
    size_t image_length; // bytes before the trailer: what the signatures cover
    size_t trailer_length;
    size_t record_count;
    SignatureRecord records[module_signature::max_records];
};

// Checks the trailer's framing and every record's fields (not the
// signatures). ENODATA when the file does not end with the magic (an
// unsigned module), EBADMSG for anything malformed; `diagnostic` says
// which field held what.
Result<SignatureTrailer> parse_signature_trailer(const uint8_t* file, size_t size, Diagnostic* diagnostic);

struct ModuleSignatureCheck {
    size_t image_length;      // parse the ELF image from these bytes only
    ImageDigest image_digest; // the verifying record's digest, by its algorithm
    const TrustedKey* key;    // the key whose signature verified; nullptr for a known image
    size_t record_index;      // which record it was
    size_t record_count;
    // The image's BLAKE2b-512 digest is one of KnownImages: trusted without
    // a key (image_digest is that digest; key and record_index say nothing).
    bool known_image;
};

// Module images the kernel was built with, by the length and BLAKE2b-512
// digest of each image (the file without its trailer): the build embeds
// them (docs/module-signing.md, "Modules the kernel knows by digest"), so
// they are trusted as the kernel image itself is, and a signed module whose
// image is one of them needs no Ed25519 check.
struct KnownImages {
    const Blake2bDigest* digests = nullptr;
    const uint64_t* lengths = nullptr; // image lengths, one per digest
    size_t count = 0;
};
// Whether an image of this length could be known: only then is it worth
// hashing to find out.
bool known_image_length(const KnownImages& known, size_t image_length);
// The entry of `known` with this image length and digest, or -1.
long find_known_image(const KnownImages& known, size_t image_length, const uint8_t* digest);

// Verifies the module against `keys`; one valid signature by one of them
// suffices. Keys the caller has blocklisted must not be passed; digests
// the caller blocklists are checked against the returned image_digest (or,
// when its algorithm is not the blocklist's, a digest the caller computes).
// The image is hashed at most once per digest algorithm, and only for a
// record whose signature verified, or first of all (BLAKE2b-512) when
// `known` lists an image of its length: one of those is accepted with
// known_image set, whatever key its records name.
// Errors (each with a diagnostic naming the record and key id):
//   ENODATA       not signed
//   EBADMSG       malformed trailer
//   ENOTSUP       no record uses an algorithm this kernel knows
//   ENOKEY        no record names a key in `keys`
//   EKEYREJECTED  a record names a key in `keys` but its signature or image
//                 digest does not match (tampered, or pasted from another
//                 module)
Result<ModuleSignatureCheck> verify_module_signature(const uint8_t* file, size_t size, const TrustedKey* keys,
    size_t key_count, Diagnostic* diagnostic, const KnownImages& known = {});

// For signing tools: the header a new record signs, written to `out`
// (module_signature::signed_header_size bytes). The record's algorithm
// follows from the digest's.
void make_signed_header(const KeyId& key_id, uint64_t image_length, const ImageDigest& image_digest, uint8_t* out);

// For signing tools: the footer for `record_count` records taking
// `records_size` bytes (module_signature::footer_size bytes to `out`).
void make_signature_footer(size_t record_count, size_t records_size, uint8_t* out);

} // namespace keel
