#include "lib/net/dhcp_message.h"

#include "lib/base/string.h"

namespace keel::net::dhcp {

namespace {

constexpr uint8_t kBootRequest = 1;
constexpr uint8_t kBootReply = 2;
constexpr uint8_t kHardwareEthernet = 1;

// Which options were already taken (the first occurrence wins).
struct Seen {
    bool type = false;
    bool server_id = false;
    bool router = false;
    bool dns = false;
    bool overload = false;
};

Err bad(Diagnostic* diagnostic, const char* area, size_t offset, const char* what, unsigned code, size_t length)
{
    diagnose(diagnostic, "dhcp: %s, offset %zu: option %u %s (length %zu)", area, offset, code, what, length);
    return Err(Error::EBADMSG);
}

// One area of options: pad and end are single bytes, every other option
// a code, a length and that many bytes, all inside the area. The end
// option closes the area; an area that runs out without one is taken as
// ended (the areas sname and file are often filled with pads only).
Result<void> parse_options(const uint8_t* area, size_t size, const char* name, bool overload_allowed, Reply& reply,
    Seen& seen, uint8_t& overload, Diagnostic* diagnostic)
{
    size_t at = 0;
    while (at < size) {
        uint8_t code = area[at];
        if (code == option::kPad) {
            at++;
            continue;
        }
        if (code == option::kEnd)
            return {};
        if (at + 2 > size)
            return bad(diagnostic, name, at, "has no length byte", code, 0);
        size_t length = area[at + 1];
        const uint8_t* value = area + at + 2;
        if (at + 2 + length > size)
            return bad(diagnostic, name, at, "runs past the end of its area", code, length);
        switch (code) {
        case option::kMessageType:
            if (length != 1)
                return bad(diagnostic, name, at, "is not 1 byte", code, length);
            if (!seen.type) {
                seen.type = true;
                if (value[0] != uint8_t(MessageType::Offer) && value[0] != uint8_t(MessageType::Ack)
                    && value[0] != uint8_t(MessageType::Nak)) {
                    diagnose(diagnostic, "dhcp: message type %u is not a server's reply", value[0]);
                    return Err(Error::EBADMSG);
                }
                reply.type = MessageType(value[0]);
            }
            break;
        case option::kSubnetMask:
            if (length != 4)
                return bad(diagnostic, name, at, "is not 4 bytes", code, length);
            if (!reply.has_subnet_mask) {
                reply.has_subnet_mask = true;
                reply.subnet_mask = load32(value);
            }
            break;
        case option::kServerId:
            if (length != 4)
                return bad(diagnostic, name, at, "is not 4 bytes", code, length);
            if (!seen.server_id) {
                seen.server_id = true;
                reply.server_id = load32(value);
            }
            break;
        case option::kLeaseTime:
            if (length != 4)
                return bad(diagnostic, name, at, "is not 4 bytes", code, length);
            if (!reply.has_lease_time) {
                reply.has_lease_time = true;
                reply.lease_seconds = load32(value);
            }
            break;
        case option::kRenewalTime:
        case option::kRebindingTime: {
            if (length != 4)
                return bad(diagnostic, name, at, "is not 4 bytes", code, length);
            bool renewal = code == option::kRenewalTime;
            bool& has = renewal ? reply.has_renewal_time : reply.has_rebinding_time;
            if (!has) {
                has = true;
                (renewal ? reply.renewal_seconds : reply.rebinding_seconds) = load32(value);
            }
            break;
        }
        case option::kRouter:
            if (length == 0 || length % 4)
                return bad(diagnostic, name, at, "is not a list of addresses", code, length);
            if (!seen.router) {
                seen.router = true;
                reply.router = load32(value);
            }
            break;
        case option::kDnsServer:
            if (length == 0 || length % 4)
                return bad(diagnostic, name, at, "is not a list of addresses", code, length);
            if (!seen.dns) {
                seen.dns = true;
                for (size_t i = 0; i < length / 4 && reply.dns_count < Reply::kMaxDnsServers; i++)
                    reply.dns[reply.dns_count++] = load32(value + 4 * i);
            }
            break;
        case option::kOverload:
            if (length != 1)
                return bad(diagnostic, name, at, "is not 1 byte", code, length);
            // Only the options field may say that sname and file hold
            // options (RFC 2132 9.3); in those areas it is ignored.
            if (overload_allowed && !seen.overload) {
                seen.overload = true;
                if (value[0] < 1 || value[0] > 3) {
                    diagnose(diagnostic, "dhcp: option overload value %u (1 file, 2 sname, 3 both)", value[0]);
                    return Err(Error::EBADMSG);
                }
                overload = value[0];
            }
            break;
        default: break;
        }
        at += 2 + length;
    }
    return {};
}

} // namespace

const char* message_type_name(MessageType type)
{
    switch (type) {
    case MessageType::Discover: return "DISCOVER";
    case MessageType::Offer: return "OFFER";
    case MessageType::Request: return "REQUEST";
    case MessageType::Decline: return "DECLINE";
    case MessageType::Ack: return "ACK";
    case MessageType::Nak: return "NAK";
    case MessageType::Release: return "RELEASE";
    case MessageType::Inform: return "INFORM";
    }
    return "?";
}

Result<Reply> parse_reply(const uint8_t* bytes, size_t length, Diagnostic* diagnostic)
{
    if (length < kOptionsOffset) {
        diagnose(
            diagnostic, "dhcp: %zu bytes, shorter than the fixed part and the cookie (%zu)", length, kOptionsOffset);
        return Err(Error::EBADMSG);
    }
    if (bytes[0] != kBootReply) {
        diagnose(diagnostic, "dhcp: op %u is not BOOTREPLY", bytes[0]);
        return Err(Error::EBADMSG);
    }
    if (bytes[1] != kHardwareEthernet || bytes[2] != 6) {
        diagnose(diagnostic, "dhcp: hardware type %u with %u-byte addresses is not Ethernet", bytes[1], bytes[2]);
        return Err(Error::EBADMSG);
    }
    if (load32(bytes + kFixedSize) != kMagicCookie) {
        diagnose(diagnostic, "dhcp: magic cookie %#010x", load32(bytes + kFixedSize));
        return Err(Error::EBADMSG);
    }
    Reply reply;
    reply.xid = load32(bytes + 4);
    reply.your_address = load32(bytes + 16);
    memcpy(reply.client_mac.bytes, bytes + 28, 6);
    Seen seen;
    uint8_t overload = 0;
    TRY(parse_options(
        bytes + kOptionsOffset, length - kOptionsOffset, "options", true, reply, seen, overload, diagnostic));
    // RFC 2131 4.1: the file field first, then sname.
    if (overload & 1)
        TRY(parse_options(bytes + kFileOffset, kFileSize, "file", false, reply, seen, overload, diagnostic));
    if (overload & 2)
        TRY(parse_options(bytes + kSnameOffset, kSnameSize, "sname", false, reply, seen, overload, diagnostic));
    if (!seen.type) {
        diagnose(diagnostic, "dhcp: no message type option (a BOOTP reply)");
        return Err(Error::EBADMSG);
    }
    return reply;
}

size_t write_request(uint8_t* out, const Request& request)
{
    memset(out, 0, kClientMessageSize);
    out[0] = kBootRequest;
    out[1] = kHardwareEthernet;
    out[2] = 6;
    store32(out + 4, request.xid);
    store16(out + 8, request.seconds);
    store32(out + 12, request.client_address);
    memcpy(out + 28, request.mac.bytes, 6);
    store32(out + kFixedSize, kMagicCookie);
    uint8_t* p = out + kOptionsOffset;
    *p++ = option::kMessageType;
    *p++ = 1;
    *p++ = uint8_t(request.type);
    if (request.requested_address) {
        *p++ = option::kRequestedAddress;
        *p++ = 4;
        store32(p, request.requested_address);
        p += 4;
    }
    if (request.server_id) {
        *p++ = option::kServerId;
        *p++ = 4;
        store32(p, request.server_id);
        p += 4;
    }
    *p++ = option::kMaxMessageSize;
    *p++ = 2;
    store16(p, 576); // RFC 2131's minimum: the replies fit one unfragmented datagram
    p += 2;
    static constexpr uint8_t kWanted[] = { option::kSubnetMask, option::kRouter, option::kDnsServer, option::kLeaseTime,
        option::kServerId, option::kRenewalTime, option::kRebindingTime };
    *p++ = option::kParameterList;
    *p++ = sizeof(kWanted);
    memcpy(p, kWanted, sizeof(kWanted));
    p += sizeof(kWanted);
    *p++ = option::kEnd;
    return kClientMessageSize; // the rest: pads (zeros)
}

} // namespace keel::net::dhcp
