#include "lib/cmdline/module_params.h"

#include "lib/base/string.h"
#include "lib/cmdline/cmdline.h"

namespace keel {

namespace {

bool has_whitespace(const char* text, size_t length)
{
    for (size_t i = 0; i < length; i++) {
        if (text[i] == ' ' || text[i] == '\t' || text[i] == '\n')
            return true;
    }
    return false;
}

class Writer {
public:
    Writer(char* out, size_t size)
        : m_out(out)
        , m_size(size)
    {
    }
    void put(const char* text, size_t length)
    {
        for (size_t i = 0; i < length; i++) {
            if (m_length + 1 < m_size)
                m_out[m_length] = text[i];
            else
                m_overflow = true;
            m_length++;
        }
    }
    Result<size_t> finish()
    {
        if (m_size)
            m_out[m_length < m_size ? m_length : m_size - 1] = '\0';
        if (m_overflow || m_length >= m_size)
            return Err(Error::ERANGE);
        return m_length;
    }

private:
    char* m_out;
    size_t m_size;
    size_t m_length = 0;
    bool m_overflow = false;
};

} // namespace

Result<size_t> module_params_from_cmdline(char* cmdline, const char* module, char* out, size_t size)
{
    size_t module_length = strlen(module);
    CmdlineParser parser(cmdline);
    CmdlineParam param;
    Writer writer(out, size);
    bool first = true;
    while (parser.next(param)) {
        if (param.key_len <= module_length + 1 || param.key[module_length] != '.'
            || !param_name_equal(param.key, module_length, module, module_length))
            continue;
        const char* key = param.key + module_length + 1;
        size_t key_length = param.key_len - module_length - 1;
        if (!first)
            writer.put(" ", 1);
        first = false;
        writer.put(key, key_length);
        if (!param.has_value)
            continue;
        bool quote = param.value_len == 0 || has_whitespace(param.value, param.value_len);
        writer.put("=", 1);
        if (quote)
            writer.put("\"", 1);
        writer.put(param.value, param.value_len);
        if (quote)
            writer.put("\"", 1);
    }
    return writer.finish();
}

} // namespace keel
