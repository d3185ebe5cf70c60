// A request cut to the most its driver takes at once (keel_disk_config's
// max_sectors): the disk queue hands the pieces out in order, each in a
// queue slot of its own, and completes the request when the last piece is
// back, with the first failed piece's status. The driver never sees a
// request longer than it said; the submitter sees one request, whatever
// its length. Pure: host-tested (tests/unit/block).
#pragma once

#include <stdint.h>

#include "bcache/block_device.h"

namespace keel {

struct RequestPiece {
    uint32_t offset;  // in sectors, from the request's first
    uint32_t sectors; // 0 for a flush
};

// Before the first piece: nothing handed, no failure yet.
inline void cut_start(BlockRequest& request)
{
    request.status = kBlockOk;
    request.cut_handed = 0;
    request.cut_pieces = 0;
    request.cut_out = 0;
}

// Whether every piece is out: a flush is one piece of no sectors.
inline bool cut_all_handed(const BlockRequest& request)
{
    return request.cut_pieces > 0 && request.cut_handed == request.sectors;
}

// The next piece, at most `max` sectors (0: the rest, whatever its length).
// Only while !cut_all_handed(request).
inline RequestPiece cut_next(BlockRequest& request, uint32_t max)
{
    uint32_t left = request.sectors - request.cut_handed;
    RequestPiece piece { request.cut_handed, max != 0 && left > max ? max : left };
    request.cut_handed += piece.sectors;
    request.cut_pieces++;
    request.cut_out++;
    return piece;
}

// A piece came back with `status`. True when the request is done: every
// piece handed and back. A failed piece does not stop the others (they
// are already out, or cheaper to send than to take back from the queue);
// the request fails with the first failure.
inline bool cut_piece_done(BlockRequest& request, Error status)
{
    if (status != kBlockOk && request.status == kBlockOk)
        request.status = status;
    request.cut_out--;
    return request.cut_out == 0 && cut_all_handed(request);
}

} // namespace keel
