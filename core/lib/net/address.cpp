#include "lib/net/address.h"

namespace keel::net {

Result<Ipv4Address> parse_ipv4_address(const char* text)
{
    Ipv4Address address = 0;
    for (int part = 0; part < 4; part++) {
        if (part && *text++ != '.')
            return Err(Error::EINVAL);
        if (*text < '0' || *text > '9')
            return Err(Error::EINVAL);
        if (text[0] == '0' && text[1] >= '0' && text[1] <= '9')
            return Err(Error::EINVAL); // a leading zero: octal to some, decimal to others
        uint32_t value = 0;
        int digits = 0;
        while (*text >= '0' && *text <= '9') {
            value = value * 10 + uint32_t(*text++ - '0');
            if (++digits > 3 || value > 255)
                return Err(Error::EINVAL);
        }
        address = address << 8 | value;
    }
    if (*text)
        return Err(Error::EINVAL);
    return address;
}

// Digit by digit rather than through format(): the protocol modules link
// this file but not the formatter (modules/meson.build).
void format_ipv4_address(Ipv4Address address, char* out)
{
    size_t at = 0;
    for (int shift = 24; shift >= 0; shift -= 8) {
        unsigned octet = (address >> shift) & 0xff;
        if (octet >= 100)
            out[at++] = char('0' + octet / 100);
        if (octet >= 10)
            out[at++] = char('0' + octet / 10 % 10);
        out[at++] = char('0' + octet % 10);
        if (shift)
            out[at++] = '.';
    }
    out[at] = '\0';
}

} // namespace keel::net
