// One of the network modules' exported functions (inet, icmp, udp),
// looked up with symbol_get and held for a console command's length: the
// module cannot unload meanwhile.
#pragma once

#include "loader/loader.h"

namespace keel::net {

template<typename Fn> class InetSymbol {
public:
    explicit InetSymbol(const char* name, const char* node = "KABI_INET_1.0")
        : m_name(name)
        , m_function(reinterpret_cast<Fn*>(symbol_get(name, node, nullptr)))
    {
    }
    ~InetSymbol()
    {
        if (m_function)
            symbol_put(m_name, nullptr);
    }
    InetSymbol(const InetSymbol&) = delete;
    InetSymbol& operator=(const InetSymbol&) = delete;
    explicit operator bool() const { return m_function != nullptr; }
    Fn* get() const { return m_function; }
    template<typename... Args> auto operator()(Args... args) const { return m_function(args...); }

private:
    const char* m_name;
    Fn* m_function;
};

} // namespace keel::net
