#include <catch2/catch.hpp>

#include <string.h>

#include <deque>
#include <random>
#include <string>
#include <vector>

#include "log/log_ring.h"

using keel::LogRing;

namespace {

std::string read_text(const LogRing& ring, uint64_t seq, LogRing::Record& record)
{
    char text[LogRing::kMaxTextLength + 1];
    REQUIRE(ring.read(seq, record, text, sizeof(text)));
    REQUIRE(strlen(text) == record.text_length);
    return std::string(text, record.text_length);
}

uint64_t push(LogRing& ring, const std::string& text, uint64_t ts = 0, int level = 6)
{
    return ring.push(ts, level, text.data(), text.size());
}

} // namespace

TEST_CASE("log ring: push and read back", "[log_ring]")
{
    alignas(8) unsigned char buffer[4096];
    LogRing ring(buffer, sizeof(buffer));
    LogRing::Record record;
    char text[64];
    CHECK(!ring.read(0, record, text, sizeof(text)));
    CHECK(ring.first_seq() == 0);
    CHECK(ring.next_seq() == 0);

    CHECK(push(ring, "hello", 100, 3) == 0);
    CHECK(push(ring, "", 200, 7) == 1);
    CHECK(push(ring, "world", 300, 0) == 2);
    CHECK(ring.next_seq() == 3);

    CHECK(read_text(ring, 0, record) == "hello");
    CHECK(record.seq == 0);
    CHECK(record.ts_us == 100);
    CHECK(record.level == 3);
    CHECK(!record.truncated);
    CHECK(read_text(ring, 1, record) == "");
    CHECK(record.level == 7);
    CHECK(read_text(ring, 2, record) == "world");
    CHECK(!ring.read(3, record, text, sizeof(text)));
    // Reading backwards after reading forwards (the cursor must not lie).
    CHECK(read_text(ring, 0, record) == "hello");
    CHECK(ring.dropped() == 0);
}

TEST_CASE("log ring: levels are clamped, text is truncated", "[log_ring]")
{
    alignas(8) unsigned char buffer[8192];
    LogRing ring(buffer, sizeof(buffer));
    LogRing::Record record;
    push(ring, "x", 0, -3);
    push(ring, "y", 0, 99);
    read_text(ring, 0, record);
    CHECK(record.level == 0);
    read_text(ring, 1, record);
    CHECK(record.level == 7);

    std::string long_text(3000, 'L');
    push(ring, long_text);
    CHECK(read_text(ring, 2, record) == std::string(LogRing::kMaxTextLength, 'L'));
    CHECK(record.truncated);

    // A small caller buffer gets a NUL-terminated prefix and the full length.
    char small[4];
    REQUIRE(ring.read(2, record, small, sizeof(small)));
    CHECK(std::string(small) == "LLL");
    CHECK(record.text_length == LogRing::kMaxTextLength);
    REQUIRE(ring.read(2, record, nullptr, 0));
}

TEST_CASE("log ring: overwrites oldest whole records and reports loss", "[log_ring]")
{
    alignas(8) unsigned char buffer[256];
    LogRing ring(buffer, sizeof(buffer));
    for (int i = 0; i < 100; ++i)
        push(ring, "message " + std::to_string(i), i);
    CHECK(ring.next_seq() == 100);
    CHECK(ring.first_seq() > 90);
    CHECK(ring.dropped() == ring.first_seq());

    LogRing::Record record;
    std::string text = read_text(ring, 5, record); // long gone
    CHECK(record.seq == ring.first_seq());
    CHECK(text == "message " + std::to_string(record.seq));
    for (uint64_t seq = ring.first_seq(); seq < ring.next_seq(); ++seq) {
        CHECK(read_text(ring, seq, record) == "message " + std::to_string(seq));
        CHECK(record.ts_us == seq);
    }
}

TEST_CASE("log ring: odd buffers", "[log_ring]")
{
    alignas(8) unsigned char buffer[200];
    // Unaligned start and odd size.
    LogRing ring(buffer + 3, 101);
    CHECK(ring.capacity() % 8 == 0);
    CHECK(ring.capacity() <= 98);
    std::string big(500, 'b');
    push(ring, big);
    LogRing::Record record;
    std::string text = read_text(ring, 0, record);
    CHECK(record.truncated);
    CHECK(text.size() == ring.capacity() - LogRing::kHeaderSize);
    push(ring, "after");
    CHECK(read_text(ring, 1, record) == "after");
    CHECK(ring.first_seq() == 1);

    // Too small to hold anything: records are counted as dropped.
    LogRing tiny(buffer, 16);
    CHECK(tiny.capacity() == 0);
    CHECK(push(tiny, "x") == 0);
    CHECK(push(tiny, "y") == 1);
    CHECK(tiny.dropped() == 2);
    CHECK(!tiny.read(0, record, nullptr, 0));
    CHECK(!tiny.read(1, record, nullptr, 0));

    LogRing none(nullptr, 0);
    CHECK(push(none, "x") == 0);
}

TEST_CASE("log ring: randomised against a model", "[log_ring]")
{
    uint64_t seed = GENERATE(7u, 8u, 9u);
    size_t size = GENERATE(64u, 300u, 1000u, 4096u, 5003u);
    std::mt19937_64 rng(seed * 1000 + size);
    std::vector<unsigned char> storage(size + 8);
    LogRing ring(storage.data() + (seed % 8), size);
    const size_t capacity = ring.capacity();
    REQUIRE(capacity > 0);

    struct Entry {
        uint64_t seq;
        uint64_t ts;
        int level;
        std::string text;
    };
    std::deque<Entry> model; // what must still be readable (a suffix of all records)
    uint64_t next_reader = 0;
    size_t lost_by_reader = 0;

    for (int step = 0; step < 5000; ++step) {
        if (rng() % 100 < 70) {
            size_t length = rng() % 4 == 0 ? rng() % 1500 : rng() % 80;
            std::string text(length, '\0');
            for (auto& c : text)
                c = static_cast<char>('a' + rng() % 26);
            uint64_t ts = rng();
            int level = static_cast<int>(rng() % 8);
            uint64_t seq = ring.push(ts, level, text.data(), text.size());
            size_t stored = std::min({ text.size(), LogRing::kMaxTextLength, capacity - LogRing::kHeaderSize });
            model.push_back({ seq, ts, level, text.substr(0, stored) });
            // Invariants: the ring holds a suffix of the records, always
            // including the newest one, within its capacity.
            REQUIRE(ring.next_seq() == seq + 1);
            REQUIRE(ring.first_seq() <= seq);
            while (!model.empty() && model.front().seq < ring.first_seq())
                model.pop_front();
            REQUIRE(model.front().seq == ring.first_seq());
            size_t bytes = 0;
            for (auto& e : model)
                bytes += (LogRing::kHeaderSize + e.text.size() + 7) / 8 * 8;
            REQUIRE(bytes <= capacity);
            REQUIRE(ring.dropped() == ring.first_seq());
        } else {
            // A reader catching up, as the console or /dev/kmsg would.
            LogRing::Record record;
            char text[LogRing::kMaxTextLength + 1];
            while (ring.read(next_reader, record, text, sizeof(text))) {
                REQUIRE(record.seq >= next_reader);
                lost_by_reader += record.seq - next_reader;
                const Entry& e = model[record.seq - model.front().seq];
                REQUIRE(record.seq == e.seq);
                REQUIRE(record.ts_us == e.ts);
                REQUIRE(record.level == e.level);
                REQUIRE(std::string(text, record.text_length) == e.text);
                next_reader = record.seq + 1;
            }
            REQUIRE(next_reader == ring.next_seq());
        }
        // Random access anywhere in the live range.
        if (!model.empty() && rng() % 5 == 0) {
            const Entry& e = model[rng() % model.size()];
            LogRing::Record record;
            REQUIRE(read_text(ring, e.seq, record) == e.text);
        }
    }
    CHECK(lost_by_reader <= ring.dropped());
}
