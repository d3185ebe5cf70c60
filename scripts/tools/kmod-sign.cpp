// kmod-sign: signs Keel modules and endorses vendor keys (docs/module-signing.md).
//
// Signing uses OpenSSL 3's EVP interface with the PEM keys `openssl genpkey
// -algorithm ed25519` (or scripts/genkey) writes, and OpenSSL's BLAKE2b-512
// or SHA-512 for the image digest. Parsing and verification use the
// kernel's own code (core/lib/crypto), so `kmod-sign verify` accepts
// exactly what the loader accepts, and every signature written is checked
// by the kernel's hash against OpenSSL's.
#include "tool.h"
#include <stdio.h>
#include <string.h>

#include <memory>
#include <string>
#include <vector>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

// After the C and C++ library headers: lib/errno.h takes the E* macros away.
#include "lib/crypto/endorsement.h"
#include "lib/crypto/module_signature.h"

using namespace keel;
using namespace keel::tools;

namespace {

const char* const kUsage
    = "usage: kmod-sign COMMAND ARGS\n"
      "  sign KEY.pem MODULE [-o OUT] [--append] [--digest blake2b|sha512]\n"
      "                                             append a signature (--append: add to an existing one;\n"
      "                                             --digest: the image digest, BLAKE2b-512 by default)\n"
      "  verify PUBKEY.pem MODULE                   exit 0 when a signature by this key is valid\n"
      "  show MODULE                                print the signature trailer (exit 1: not signed)\n"
      "  strip MODULE [-o OUT]                      remove the signature trailer\n"
      "  endorse ENDORSER_KEY.pem VENDOR_PUB.pem -o OUT.endorsement [--description TEXT]\n"
      "  keyid KEY.pem                              print the key id (public or private PEM)\n"
      "  pubkey-raw KEY.pem [--c-array]             print the raw public key as hex or C bytes\n"
      "Keys are PEM Ed25519 keys as scripts/genkey or `openssl genpkey -algorithm ed25519` write them.\n";

std::string openssl_reason()
{
    unsigned long code = ERR_get_error();
    ERR_clear_error();
    if (code == 0)
        return "";
    char text[256];
    ERR_error_string_n(code, text, sizeof(text));
    return std::string(" (") + text + ")";
}

struct PkeyDeleter {
    void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

struct BioDeleter {
    void operator()(BIO* bio) const { BIO_free(bio); }
};

// Refuses a passphrase prompt: signing runs unattended in builds.
int no_passphrase(char*, int, int, void*) { return -1; }

void require_ed25519(const Pkey& key, const std::string& path)
{
    if (EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_ED25519) {
        const char* type = EVP_PKEY_get0_type_name(key.get());
        fail(path + ": key is " + (type ? type : "of an unknown type") + ", not Ed25519");
    }
}

enum class KeyKind { Private, PublicOrPrivate };

Pkey load_key(const std::string& path, KeyKind kind)
{
    std::vector<uint8_t> pem = read_file(path);
    if (pem.empty())
        fail(path + ": empty file, expected a PEM key");
    auto read_with = [&](auto reader) {
        std::unique_ptr<BIO, BioDeleter> bio(BIO_new_mem_buf(pem.data(), int(pem.size())));
        if (!bio)
            fail("out of memory");
        return Pkey(reader(bio.get(), nullptr, no_passphrase, nullptr));
    };
    Pkey key = read_with(PEM_read_bio_PrivateKey);
    if (!key && kind == KeyKind::PublicOrPrivate)
        key = read_with(PEM_read_bio_PUBKEY);
    if (!key) {
        std::string reason = openssl_reason();
        if (kind == KeyKind::Private)
            fail(path
                + ": no PEM private key found (make one with scripts/genkey or `openssl genpkey -algorithm "
                  "ed25519`; encrypted keys are not supported)"
                + reason);
        fail(path + ": no PEM public or private key found" + reason);
    }
    ERR_clear_error();
    require_ed25519(key, path);
    return key;
}

std::vector<uint8_t> raw_public_key(const Pkey& key, const std::string& path)
{
    std::vector<uint8_t> raw(ed25519_public_key_size);
    size_t size = raw.size();
    if (EVP_PKEY_get_raw_public_key(key.get(), raw.data(), &size) != 1 || size != raw.size())
        fail(path + ": cannot extract the raw Ed25519 public key" + openssl_reason());
    return raw;
}

std::vector<uint8_t> ed25519_sign(const Pkey& key, const uint8_t* message, size_t size, const std::string& path)
{
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    std::vector<uint8_t> signature(ed25519_signature_size);
    size_t signature_size = signature.size();
    if (!context || EVP_DigestSignInit(context.get(), nullptr, nullptr, nullptr, key.get()) != 1
        || EVP_DigestSign(context.get(), signature.data(), &signature_size, message, size) != 1
        || signature_size != signature.size())
        fail(path + ": signing failed" + openssl_reason());
    return signature;
}

ImageDigest openssl_image_digest(ImageDigestAlgorithm algorithm, const uint8_t* image, size_t size)
{
    ImageDigest digest;
    digest.algorithm = algorithm;
    const EVP_MD* md = algorithm == ImageDigestAlgorithm::Sha512 ? EVP_sha512() : EVP_blake2b512();
    unsigned int digest_size = 0;
    if (EVP_Digest(image, size, digest.bytes, &digest_size, md, nullptr) != 1 || digest_size != ImageDigest::size)
        fail(std::string("cannot compute the ") + image_digest_name(algorithm) + " digest" + openssl_reason());
    return digest;
}

std::string hex_bytes(const uint8_t* bytes, size_t size)
{
    static const char digits[] = "0123456789abcdef";
    std::string text;
    for (size_t i = 0; i < size; ++i) {
        text += digits[bytes[i] >> 4];
        text += digits[bytes[i] & 15];
    }
    return text;
}

std::string key_id_hex(const KeyId& id) { return hex_bytes(id.bytes, KeyId::size); }

// A module's image must at least look like what the loader will parse.
void require_elf64(const std::vector<uint8_t>& data, size_t image_size, const std::string& path)
{
    if (image_size < 5
        || memcmp(data.data(),
               "\x7f"
               "ELF",
               4)
            != 0)
        fail(path + ": not an ELF module (no \\x7fELF magic)");
    if (data[4] != 2)
        fail(path + ": not an ELF module for Keel (EI_CLASS " + std::to_string(data[4]) + ", expected 2 = ELFCLASS64)");
}

enum class TrailerState { Unsigned, Signed };

// Classifies the module; a damaged trailer is an error (nobody should sign
// on top of it, or strip something that might not be a trailer).
TrailerState read_trailer(const std::vector<uint8_t>& data, const std::string& path, SignatureTrailer& trailer)
{
    Diagnostic diagnostic = {};
    auto parsed = parse_signature_trailer(data.data(), data.size(), &diagnostic);
    if (parsed.is_ok()) {
        trailer = parsed.release_value();
        return TrailerState::Signed;
    }
    if (parsed.error() == Error::ENODATA) {
        trailer = {};
        trailer.image_length = data.size();
        return TrailerState::Unsigned;
    }
    fail(path + ": damaged or truncated signature trailer: " + diagnostic.message);
}

struct Arguments {
    std::vector<std::string> positional;
    std::string output;
    std::string description;
    bool has_description = false;
    bool append = false;
    bool c_array = false;
    ImageDigestAlgorithm digest = ImageDigestAlgorithm::Blake2b;
};

Arguments parse_arguments(int argc, char** argv, int first)
{
    Arguments arguments;
    for (int i = first; i < argc; ++i) {
        std::string arg = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc)
                fail(arg + " needs a value");
            return argv[++i];
        };
        if (arg == "-o" || arg == "--output") {
            arguments.output = value();
        } else if (arg == "--description") {
            arguments.description = value();
            arguments.has_description = true;
        } else if (arg == "--digest") {
            std::string name = value();
            if (name == "blake2b")
                arguments.digest = ImageDigestAlgorithm::Blake2b;
            else if (name == "sha512")
                arguments.digest = ImageDigestAlgorithm::Sha512;
            else
                fail("--digest is blake2b (the default) or sha512, not '" + name + "'");
        } else if (arg == "--append") {
            arguments.append = true;
        } else if (arg == "--c-array") {
            arguments.c_array = true;
        } else if (arg.size() > 1 && arg[0] == '-') {
            fail("unknown option " + arg);
        } else {
            arguments.positional.push_back(arg);
        }
    }
    return arguments;
}

void expect_positional(const Arguments& arguments, size_t count, const char* usage)
{
    if (arguments.positional.size() != count)
        fail(std::string("usage: kmod-sign ") + usage);
}

int command_sign(const Arguments& arguments)
{
    expect_positional(arguments, 2, "sign KEY.pem MODULE [-o OUT] [--append] [--digest blake2b|sha512]");
    const std::string& key_path = arguments.positional[0];
    const std::string& module_path = arguments.positional[1];
    Pkey key = load_key(key_path, KeyKind::Private);
    std::vector<uint8_t> public_key = raw_public_key(key, key_path);
    KeyId key_id = key_id_of(public_key.data());

    std::vector<uint8_t> data = read_file(module_path);
    SignatureTrailer trailer;
    TrailerState state = read_trailer(data, module_path, trailer);
    require_elf64(data, trailer.image_length, module_path);
    if (state == TrailerState::Signed) {
        if (!arguments.append)
            fail(module_path + ": already signed (" + std::to_string(trailer.record_count)
                + " signature(s)); use --append to add another, or strip it first");
        for (size_t i = 0; i < trailer.record_count; ++i) {
            if (trailer.records[i].supported && trailer.records[i].key_id == key_id)
                fail(module_path + ": already signed by key " + key_id_hex(key_id));
        }
        if (trailer.record_count >= module_signature::max_records)
            fail(module_path + ": already carries the maximum of " + std::to_string(module_signature::max_records)
                + " signatures");
    }

    size_t image_length = trailer.image_length;
    ImageDigest digest = openssl_image_digest(arguments.digest, data.data(), image_length);
    uint8_t header[module_signature::signed_header_size];
    make_signed_header(key_id, image_length, digest, header);
    std::vector<uint8_t> signature = ed25519_sign(key, header, sizeof(header), key_path);

    // image | existing records | new record | footer
    size_t old_records_size
        = state == TrailerState::Signed ? trailer.trailer_length - module_signature::footer_size : 0;
    std::vector<uint8_t> out(data.begin(), data.begin() + long(image_length + old_records_size));
    out.insert(out.end(), header, header + sizeof(header));
    out.insert(out.end(), signature.begin(), signature.end());
    uint8_t footer[module_signature::footer_size];
    size_t record_count = (state == TrailerState::Signed ? trailer.record_count : 0) + 1;
    make_signature_footer(record_count, out.size() - image_length, footer);
    out.insert(out.end(), footer, footer + sizeof(footer));

    // Check our own output with the kernel's verifier before writing it.
    TrustedKey trusted = make_trusted_key(public_key.data(), nullptr);
    Diagnostic diagnostic = {};
    auto check = verify_module_signature(out.data(), out.size(), &trusted, 1, &diagnostic);
    if (check.is_error())
        fail(module_path + ": internal error, the new signature does not verify: " + diagnostic.message);

    std::string output = arguments.output.empty() ? module_path : arguments.output;
    write_file_atomically(output, out, file_mode(module_path, 0644));
    return 0;
}

int command_verify(const Arguments& arguments)
{
    expect_positional(arguments, 2, "verify PUBKEY.pem MODULE");
    const std::string& key_path = arguments.positional[0];
    const std::string& module_path = arguments.positional[1];
    Pkey key = load_key(key_path, KeyKind::PublicOrPrivate);
    std::vector<uint8_t> public_key = raw_public_key(key, key_path);
    Ed25519Status key_status = ed25519_check_public_key(public_key.data());
    if (key_status != Ed25519Status::Valid)
        fail(key_path + ": unusable key: " + ed25519_status_text(key_status));
    TrustedKey trusted = make_trusted_key(public_key.data(), nullptr);

    std::vector<uint8_t> data = read_file(module_path);
    Diagnostic diagnostic = {};
    auto check = verify_module_signature(data.data(), data.size(), &trusted, 1, &diagnostic);
    if (check.is_error())
        fail(module_path + ": " + error_name(check.error()) + ": " + diagnostic.message);
    require_elf64(data, check.value().image_length, module_path);
    printf("%s: valid signature by key %s (record %zu of %zu; Ed25519, %s image digest)\n", module_path.c_str(),
        key_id_hex(trusted.id).c_str(), check.value().record_index, check.value().record_count,
        image_digest_name(check.value().image_digest.algorithm));
    return 0;
}

int command_show(const Arguments& arguments)
{
    expect_positional(arguments, 1, "show MODULE");
    const std::string& module_path = arguments.positional[0];
    std::vector<uint8_t> data = read_file(module_path);
    SignatureTrailer trailer;
    if (read_trailer(data, module_path, trailer) == TrailerState::Unsigned) {
        printf("%s: not signed\n", module_path.c_str());
        return 1;
    }
    printf("%s: %zu signature(s); image %zu bytes, trailer %zu bytes\n", module_path.c_str(), trailer.record_count,
        trailer.image_length, trailer.trailer_length);
    for (size_t i = 0; i < trailer.record_count; ++i) {
        const SignatureRecord& record = trailer.records[i];
        printf("record %zu: version %u, algorithm %u", i, record.version, record.algorithm);
        if (!record.supported) {
            printf(" (unknown to this tool), %zu bytes\n", record.size);
            continue;
        }
        printf(" (Ed25519, %s)\n", image_digest_name(record.digest_algorithm));
        printf("  key id:       %s\n", key_id_hex(record.key_id).c_str());
        printf("  image length: %llu\n", static_cast<unsigned long long>(record.image_length));
        printf("  digest:       %s:%s\n",
            record.digest_algorithm == ImageDigestAlgorithm::Sha512 ? "sha512" : "blake2b512",
            hex_bytes(record.image_digest, ImageDigest::size).c_str());
        printf("  signature:    %s\n", hex_bytes(record.signature, ed25519_signature_size).c_str());
    }
    return 0;
}

int command_strip(const Arguments& arguments)
{
    expect_positional(arguments, 1, "strip MODULE [-o OUT]");
    const std::string& module_path = arguments.positional[0];
    std::vector<uint8_t> data = read_file(module_path);
    SignatureTrailer trailer;
    if (read_trailer(data, module_path, trailer) == TrailerState::Unsigned)
        fail(module_path + ": not signed, nothing to strip");
    data.resize(trailer.image_length);
    std::string output = arguments.output.empty() ? module_path : arguments.output;
    write_file_atomically(output, data, file_mode(module_path, 0644));
    return 0;
}

int command_endorse(const Arguments& arguments)
{
    expect_positional(arguments, 2, "endorse ENDORSER_KEY.pem VENDOR_PUB.pem -o OUT.endorsement [--description TEXT]");
    if (arguments.output.empty())
        fail("endorse needs -o OUT.endorsement");
    const std::string& endorser_path = arguments.positional[0];
    const std::string& vendor_path = arguments.positional[1];
    Pkey endorser = load_key(endorser_path, KeyKind::Private);
    Pkey vendor = load_key(vendor_path, KeyKind::PublicOrPrivate);
    std::vector<uint8_t> endorser_public = raw_public_key(endorser, endorser_path);
    std::vector<uint8_t> vendor_public = raw_public_key(vendor, vendor_path);

    const std::string& description = arguments.description;
    if (description.size() > endorsement_format::max_description_size)
        fail("--description is " + std::to_string(description.size()) + " bytes, at most "
            + std::to_string(endorsement_format::max_description_size) + " are allowed");
    for (char c : description) {
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e)
            fail("--description may only hold printable ASCII characters");
    }
    Ed25519Status vendor_status = ed25519_check_public_key(vendor_public.data());
    if (vendor_status != Ed25519Status::Valid)
        fail(vendor_path + ": unusable key: " + ed25519_status_text(vendor_status));

    KeyId endorser_id = key_id_of(endorser_public.data());
    std::vector<uint8_t> out(endorsement_format::header_size + description.size());
    make_endorsement_header(vendor_public.data(), endorser_id, description.data(), description.size(), out.data());
    std::vector<uint8_t> signature = ed25519_sign(endorser, out.data(), out.size(), endorser_path);
    out.insert(out.end(), signature.begin(), signature.end());

    TrustedKey trusted = make_trusted_key(endorser_public.data(), nullptr);
    Diagnostic diagnostic = {};
    auto check = verify_endorsement(out.data(), out.size(), &trusted, 1, &diagnostic);
    if (check.is_error())
        fail(std::string("internal error, the endorsement does not verify: ") + diagnostic.message);
    write_file_atomically(arguments.output, out, 0644);
    printf("%s: key %s endorsed by key %s\n", arguments.output.c_str(),
        key_id_hex(key_id_of(vendor_public.data())).c_str(), key_id_hex(endorser_id).c_str());
    return 0;
}

int command_keyid(const Arguments& arguments)
{
    expect_positional(arguments, 1, "keyid KEY.pem");
    Pkey key = load_key(arguments.positional[0], KeyKind::PublicOrPrivate);
    std::vector<uint8_t> public_key = raw_public_key(key, arguments.positional[0]);
    printf("%s\n", key_id_hex(key_id_of(public_key.data())).c_str());
    return 0;
}

int command_pubkey_raw(const Arguments& arguments)
{
    expect_positional(arguments, 1, "pubkey-raw KEY.pem [--c-array]");
    Pkey key = load_key(arguments.positional[0], KeyKind::PublicOrPrivate);
    std::vector<uint8_t> public_key = raw_public_key(key, arguments.positional[0]);
    if (!arguments.c_array) {
        printf("%s\n", hex_bytes(public_key.data(), public_key.size()).c_str());
        return 0;
    }
    // An initializer list the build can #include into a key table.
    printf("/* key id %s */\n", key_id_hex(key_id_of(public_key.data())).c_str());
    for (size_t i = 0; i < public_key.size(); ++i)
        printf("0x%02x,%s", public_key[i], i % 8 == 7 ? "\n" : " ");
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    return run_tool("kmod-sign", kUsage, [&] {
        if (argc < 2)
            usage_error();
        std::string command = argv[1];
        if (command == "-h" || command == "--help" || command == "help")
            show_help();
        Arguments arguments = parse_arguments(argc, argv, 2);
        if (command == "sign")
            return command_sign(arguments);
        if (command == "verify")
            return command_verify(arguments);
        if (command == "show")
            return command_show(arguments);
        if (command == "strip")
            return command_strip(arguments);
        if (command == "endorse")
            return command_endorse(arguments);
        if (command == "keyid")
            return command_keyid(arguments);
        if (command == "pubkey-raw")
            return command_pubkey_raw(arguments);
        usage_error("unknown command '" + command + "'");
    });
}
