// core/block/request_cut.h: how the disk queue cuts a request to its
// driver's max_sectors and when the request is done.
#include <catch2/catch.hpp>

#include <vector>

#include "block/request_cut.h"

using namespace keel;

namespace {

BlockRequest read_of(uint32_t sectors)
{
    BlockRequest request {};
    request.op = BlockOp::Read;
    request.sector = 100;
    request.sectors = sectors;
    return request;
}

// Hands out every piece, as the queue would with slots to spare.
std::vector<RequestPiece> hand_all(BlockRequest& request, uint32_t max)
{
    std::vector<RequestPiece> pieces;
    while (!cut_all_handed(request))
        pieces.push_back(cut_next(request, max));
    return pieces;
}

} // namespace

TEST_CASE("cut: without a limit a request is one piece")
{
    BlockRequest request = read_of(256);
    cut_start(request);
    CHECK_FALSE(cut_all_handed(request));
    auto pieces = hand_all(request, 0);
    REQUIRE(pieces.size() == 1);
    CHECK(pieces[0].offset == 0);
    CHECK(pieces[0].sectors == 256);
    CHECK(cut_piece_done(request, kBlockOk));
    CHECK(request.status == kBlockOk);
}

TEST_CASE("cut: pieces of at most the limit cover the request in order")
{
    for (uint32_t max : { 1u, 3u, 8u, 10u, 11u }) {
        BlockRequest request = read_of(10);
        cut_start(request);
        auto pieces = hand_all(request, max);
        CHECK(pieces.size() == (10 + max - 1) / max);
        uint32_t next = 0;
        for (const RequestPiece& piece : pieces) {
            CHECK(piece.offset == next);
            CHECK(piece.sectors >= 1);
            CHECK(piece.sectors <= max);
            next += piece.sectors;
        }
        CHECK(next == 10);
        // Done with the last piece back, whatever order they come back in.
        for (size_t i = 0; i + 1 < pieces.size(); i++)
            CHECK_FALSE(cut_piece_done(request, kBlockOk));
        CHECK(cut_piece_done(request, kBlockOk));
    }
}

TEST_CASE("cut: a driver that completes inside submit does not end the request early")
{
    // Each piece comes back before the next is handed: no piece is out in
    // between, and still the request is done only after the last.
    BlockRequest request = read_of(7);
    cut_start(request);
    int done = 0;
    while (!cut_all_handed(request)) {
        cut_next(request, 2);
        done += cut_piece_done(request, kBlockOk) ? 1 : 0;
        CHECK(done == (cut_all_handed(request) ? 1 : 0));
    }
    CHECK(done == 1);
    CHECK(request.cut_pieces == 4);
}

TEST_CASE("cut: the request fails with its first failed piece")
{
    BlockRequest request = read_of(8);
    cut_start(request);
    auto pieces = hand_all(request, 2);
    REQUIRE(pieces.size() == 4);
    CHECK_FALSE(cut_piece_done(request, kBlockOk));
    CHECK_FALSE(cut_piece_done(request, Error::EIO));
    CHECK_FALSE(cut_piece_done(request, Error::ENODEV));
    CHECK(cut_piece_done(request, kBlockOk));
    CHECK(request.status == Error::EIO);
}

TEST_CASE("cut: a flush is one piece of no sectors")
{
    BlockRequest request {};
    request.op = BlockOp::Flush;
    cut_start(request);
    CHECK_FALSE(cut_all_handed(request));
    RequestPiece piece = cut_next(request, 4);
    CHECK(piece.offset == 0);
    CHECK(piece.sectors == 0);
    CHECK(cut_all_handed(request));
    CHECK(cut_piece_done(request, kBlockOk));
}

TEST_CASE("cut: a request submitted again starts afresh")
{
    BlockRequest request = read_of(4);
    cut_start(request);
    hand_all(request, 1);
    for (int i = 0; i < 3; i++)
        cut_piece_done(request, Error::EIO);
    CHECK(cut_piece_done(request, kBlockOk));
    CHECK(request.status == Error::EIO);
    // The cache re-reads a failed block with the same request.
    cut_start(request);
    CHECK(request.status == kBlockOk);
    CHECK_FALSE(cut_all_handed(request));
    auto pieces = hand_all(request, 3);
    REQUIRE(pieces.size() == 2);
    CHECK_FALSE(cut_piece_done(request, kBlockOk));
    CHECK(cut_piece_done(request, kBlockOk));
    CHECK(request.status == kBlockOk);
}
