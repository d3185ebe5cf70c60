// Autoload: the index of driver modules' match tables, and the thread
// that loads a driver module for a device nobody claimed (autoload.h).
#include "loader/autoload.h"

#include "boot/boot_info.h"
#include "boot/params.h"
#include "device/device.h"
#include "lib/base/format.h"
#include "lib/base/string.h"
#include "lib/cmdline/module_params.h"
#include "lib/crypto/module_signature.h"
#include "lib/devmatch/device_table.h"
#include "lib/devmatch/glob.h"
#include "loader/internal.h"
#include "loader/signature.h"
#include "log/log.h"
#include "mm/heap.h"
#include "sched/thread.h"
#include "sync/spinlock.h"
#include "vfs/vfs.h"

namespace keel {

namespace {

using Alias = char[devmatch::kAliasSize];

struct IndexedModule {
    char name[Module::kNameLength]; // its name=, which need not be its file's
    char path[128];                 // the file indexed, and loaded
    size_t alias_count;
    Alias* aliases;
    IntrusiveListNode node;
};

struct Request {
    char device[Device::kNameSize];
    char modalias[devmatch::kAliasSize];
    IntrusiveListNode node;
};

constexpr LockClass kQueueLockClass { "autoload queue", LockRank::Autoload, false };
// The index is built once, by the thread, before `g_ready`; after that it
// is only read, so readers need no lock (the flag is released after the
// last write and acquired before the first read).
IntrusiveList<IndexedModule, &IndexedModule::node> g_index;
bool g_ready = false;
WaitQueue g_ready_waiters;
// The thread waits for the go before it builds the index: the boot flow
// gives it once the console is up, or earlier when it waits for devices.
bool g_go = false;
WaitQueue g_go_waiters;
Spinlock g_queue_lock { kQueueLockClass };
IntrusiveList<Request, &Request::node> g_queue GUARDED_BY(g_queue_lock);
WaitQueue g_queue_waiters;
// A request taken off the queue and not finished yet: a driver it loads may
// add devices (a transport its children), queued before this clears.
bool g_handling GUARDED_BY(g_queue_lock) = false;
WaitQueue g_settle_waiters;
Thread* g_thread = nullptr;

// Under the device lock: queue, never load.
void device_unclaimed(const Device& device)
{
    auto* request = static_cast<Request*>(kzalloc(sizeof(Request)));
    if (!request) {
        log_err("autoload: %s: out of memory; no driver will be looked for", device.name);
        return;
    }
    format(request->device, sizeof(request->device), "%s", device.name);
    format(request->modalias, sizeof(request->modalias), "%s", device.modalias);
    {
        SpinlockGuard guard(g_queue_lock);
        g_queue.push_back(*request);
    }
    g_queue_waiters.wake_all();
}

// ---- the index

struct Names {
    static constexpr size_t kMax = 128;
    char names[kMax][Module::kNameLength];
    size_t count;
    bool truncated;
};

int collect_name(void* context, const char* name, size_t length, uint64_t, uint32_t)
{
    auto* names = static_cast<Names*>(context);
    // NAME.kmod, with NAME a module name.
    if (length <= 5 || length - 5 >= Module::kNameLength || memcmp(name + length - 5, ".kmod", 5) != 0)
        return 0;
    if (names->count == Names::kMax) {
        names->truncated = true;
        return 1;
    }
    memcpy(names->names[names->count], name, length - 5);
    names->names[names->count][length - 5] = '\0';
    names->count++;
    return 0;
}

void add_entry(IndexedModule* entry) { g_index.push_back(*entry); }

// One module file: parsed (the file is hostile: ModuleImage checks it,
// and the device table with it) for its match tables.
void index_module(const char* directory, const char* name)
{
    char path[128];
    format(path, sizeof(path), "%s/%s.kmod", directory, name);
    Diagnostic error;
    auto file = read_module_file(path, error);
    if (file.is_error()) {
        log_warn("autoload: %s", error.message);
        return;
    }
    const uint8_t* bytes = file.value().data;
    size_t size = file.value().size;
    // The ELF image ends where a signature trailer begins.
    auto trailer = parse_signature_trailer(bytes, size, nullptr);
    size_t image_length = trailer.is_ok() ? trailer.value().image_length : size;
    Diagnostic problem;
    auto image = ModuleImage::parse(bytes, image_length, problem);
    if (image.is_error() || !image.value().device_table()) {
        if (image.is_error())
            log_warn("autoload: %s: not indexed: %s", path, problem.message);
        kfree(file.value().data);
        return;
    }
    auto* entry = static_cast<IndexedModule*>(kzalloc(sizeof(IndexedModule)));
    if (!entry) {
        kfree(file.value().data);
        return;
    }
    format(entry->name, sizeof(entry->name), "%s", image.value().name());
    format(entry->path, sizeof(entry->path), "%s", path);
    // The signature is checked when a device needs the module, by the
    // load itself: checking every driver module here cost a verification
    // each at every boot (most of the index's time), for modules that may
    // never be loaded.
    const ModuleImage& module = image.value();
    size_t count = 0;
    devmatch::for_each_alias(module.device_table(), module.device_table_size(), [&](const char*) { count++; });
    entry->aliases = static_cast<Alias*>(kmalloc(sizeof(Alias) * (count ? count : 1)));
    if (entry->aliases) {
        devmatch::for_each_alias(module.device_table(), module.device_table_size(),
            [&](const char* alias) { format(entry->aliases[entry->alias_count++], sizeof(Alias), "%s", alias); });
    }
    kfree(file.value().data);
    add_entry(entry);
}

bool listed_before(const Names& names, size_t end, const char* name)
{
    for (size_t i = 0; i < end; i++) {
        if (strcmp(names.names[i], name) == 0)
            return true;
    }
    return false;
}

// Every directory a bare module name is looked up in (the core's modules,
// then the vendor's), in that order: a name in an earlier directory hides
// the same name in a later one, as loading by name does. Only the first
// directory must exist.
void build_index()
{
    auto* names = static_cast<Names*>(kzalloc(sizeof(Names)));
    if (!names)
        return;
    for (const char* path : kModuleSearchPath) {
        size_t first = names->count;
        auto directory = vfs_open(*vfs_kernel_context(), path, kOpenDirectory, 0);
        if (directory.is_ok()) {
            (void)vfs_readdir(*directory.value(), collect_name, names);
            vfs_close(directory.value());
        } else if (path == kModuleDirectory || directory.error() != Error::ENOENT) {
            log_warn("autoload: %s: cannot list: %s; no driver modules indexed from it", path,
                error_name(directory.error()));
        }
        for (size_t i = first; i < names->count; i++) {
            if (!listed_before(*names, first, names->names[i]))
                index_module(path, names->names[i]);
        }
    }
    if (names->truncated)
        log_warn("autoload: more than %zu modules in %s and %s; the rest are not indexed", Names::kMax,
            kModuleDirectory, kVendorModuleDirectory);
    kfree(names);
    AutoloadStats stats = autoload_stats();
    log_info("autoload: %zu driver module(s) indexed, %zu alias(es)", stats.modules, stats.aliases);
}

void wait_for_index()
{
    autoload_go();
    wait_event(g_ready_waiters, __atomic_load_n(&g_ready, __ATOMIC_ACQUIRE));
}

// ---- loading

struct Match {
    const IndexedModule* module;
};

// The modules whose patterns match `modalias` (at most `capacity`).
size_t find_matches(const char* modalias, Match* matches, size_t capacity)
{
    size_t count = 0;
    for (const IndexedModule& module : g_index) {
        bool matched = false;
        for (size_t i = 0; i < module.alias_count && !matched; i++)
            matched = devmatch::glob_match(module.aliases[i], modalias);
        if (matched && count < capacity)
            matches[count++] = { &module };
    }
    return count;
}

// A module's parameters from the kernel command line (NAME.key=value), as
// Linux's modprobe passes them; logged and dropped when they do not fit.
struct CmdlineParams {
    static constexpr size_t kSize = 512;
    char text[kSize];

    explicit CmdlineParams(const char* module)
    {
        text[0] = '\0';
        char* line = static_cast<char*>(kmalloc(BootInfo::kMaxCmdline));
        if (!line) {
            log_err("autoload: %s: no memory to read its command-line parameters", module);
            return;
        }
        size_t length = strnlen(saved_command_line(), BootInfo::kMaxCmdline - 1);
        memcpy(line, saved_command_line(), length);
        line[length] = '\0';
        auto found = module_params_from_cmdline(line, module, text, kSize);
        kfree(line);
        if (found.is_error()) {
            log_err("autoload: %s: its command-line parameters exceed %zu bytes; ignored", module, kSize - 1);
            text[0] = '\0';
        }
    }
    const char* get() const { return text[0] ? text : nullptr; }
};

// Loads every matching module that is not loaded; `who` names the device
// in messages ("" for modprobe). Returns how many loaded.
Result<size_t> load_matches(const char* modalias, const char* who, Diagnostic& error)
{
    Match matches[8];
    size_t count = find_matches(modalias, matches, 8);
    if (count == 0)
        return error.fail(Error::ENOENT, "%s: no module matches", modalias);
    size_t loaded = 0;
    bool failed = false;
    Error first_error = Error::ENOENT;
    for (size_t i = 0; i < count; i++) {
        const IndexedModule& candidate = *matches[i].module;
        const char* name = candidate.name;
        Diagnostic problem;
        CmdlineParams params(name);
        LoadOptions options;
        options.parameters = params.get();
        bool refused = false;
        options.refused = &refused;
        options.unless_loaded = true;
        options.module_name = name;
        auto module = load_module(candidate.path, options, problem);
        if (module.is_ok() && !module.value())
            continue; // loaded already (by modprobe, insmod or an earlier device)
        if (module.is_error()) {
            log_err("autoload: %s%s%s: driver module %s%s: %s%s", who, who[0] ? " " : "", modalias, name,
                refused ? " refused" : "", problem.message, who[0] ? "; the device stays unbound" : "");
            if (!failed) {
                diagnose(&error, "%s", problem.message);
                failed = true;
                first_error = module.error();
            }
            continue;
        }
        log_info("autoload: %s%s%s: loaded %s", who, who[0] ? " " : "", modalias, name);
        loaded++;
    }
    if (loaded == 0 && failed)
        return Err(first_error);
    return loaded;
}

Request* next_request()
{
    SpinlockGuard guard(g_queue_lock);
    Request* request = g_queue.pop_front();
    g_handling = request != nullptr;
    return request;
}

bool settled()
{
    SpinlockGuard guard(g_queue_lock);
    return __atomic_load_n(&g_ready, __ATOMIC_ACQUIRE) && g_queue.is_empty() && !g_handling;
}

int autoload_main(void*)
{
    wait_event(g_go_waiters, __atomic_load_n(&g_go, __ATOMIC_ACQUIRE));
    build_index();
    __atomic_store_n(&g_ready, true, __ATOMIC_RELEASE);
    g_ready_waiters.wake_all();
    g_settle_waiters.wake_all();
    for (;;) {
        Request* request = nullptr;
        wait_event(g_queue_waiters, (request = next_request()) != nullptr);
        Diagnostic error;
        (void)load_matches(request->modalias, request->device, error);
        kfree(request);
        {
            SpinlockGuard guard(g_queue_lock);
            g_handling = false;
        }
        g_settle_waiters.wake_all();
    }
}

} // namespace

void autoload_init() { device_set_unclaimed_hook(device_unclaimed); }

void autoload_start()
{
    auto thread = thread_create("kmodprobe", autoload_main, nullptr);
    if (thread.is_error()) {
        log_err("autoload: cannot start its thread (%s); drivers load only with insmod", error_name(thread.error()));
        return;
    }
    g_thread = thread.value();
    thread_detach(g_thread);
}

void autoload_go()
{
    if (!__atomic_exchange_n(&g_go, true, __ATOMIC_ACQ_REL))
        g_go_waiters.wake_all();
}

void autoload_settle()
{
    if (!g_thread)
        return;
    autoload_go();
    wait_event(g_settle_waiters, settled());
}

Result<void> modprobe(const char* alias_or_name, Diagnostic& error)
{
    error.clear();
    if (!strchr(alias_or_name, ':')) {
        CmdlineParams params(alias_or_name);
        LoadOptions options;
        options.parameters = params.get();
        options.unless_loaded = true;
        TRY(load_module(alias_or_name, options, error));
        return {};
    }
    if (!g_thread)
        return error.fail(Error::ENOENT, "%s: no module index (no root filesystem)", alias_or_name);
    wait_for_index();
    TRY(load_matches(alias_or_name, "", error));
    return {};
}

AutoloadStats autoload_stats()
{
    AutoloadStats stats {};
    stats.ready = __atomic_load_n(&g_ready, __ATOMIC_ACQUIRE);
    // Only the thread writes the index, and only before it is ready.
    if (!stats.ready && current_thread() != g_thread)
        return stats;
    for (const IndexedModule& module : g_index) {
        stats.modules++;
        stats.aliases += module.alias_count;
    }
    return stats;
}

} // namespace keel
