#include "lib/net/address.h"

#include "lib/base/format.h"

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

void format_ipv4_address(Ipv4Address address, char* out)
{
    format(out, 16, "%u.%u.%u.%u", address >> 24, (address >> 16) & 0xff, (address >> 8) & 0xff, address & 0xff);
}

} // namespace keel::net
