//! Filesystem types (KABI_VFS_1.0) in safe Rust: implement `FileSystem`
//! and keep a `Registration` in the module's state.
//!
//! The core calls every operation with its VFS lock held, one at a time,
//! so a filesystem needs no lock of its own for its tree. Node handles are
//! `Arc`s: the core holds one reference per handle it was given (from
//! `mount` and `lookup`) and drops it when it is done. Mutations (create,
//! unlink, rename, write, setattr...) are not wrapped yet: the core refuses
//! them with EPERM, so filesystems written with this are read-only.

use core::ffi::{c_char, c_void, CStr};
use core::marker::PhantomData;
use core::slice;

use alloc::boxed::Box;
use alloc::sync::Arc;

use crate::allocator::try_box;
use crate::error::{to_result, Error, Result};
use crate::sys;

/// File type bits of a mode (Linux's values).
pub const S_IFMT: u32 = sys::KEEL_S_IFMT;
/// A directory.
pub const S_IFDIR: u32 = sys::KEEL_S_IFDIR;
/// A regular file.
pub const S_IFREG: u32 = sys::KEEL_S_IFREG;
/// A symbolic link.
pub const S_IFLNK: u32 = sys::KEEL_S_IFLNK;
/// A character device.
pub const S_IFCHR: u32 = sys::KEEL_S_IFCHR;
/// A block device.
pub const S_IFBLK: u32 = sys::KEEL_S_IFBLK;
/// A named pipe.
pub const S_IFIFO: u32 = sys::KEEL_S_IFIFO;
/// A socket.
pub const S_IFSOCK: u32 = sys::KEEL_S_IFSOCK;
/// The mount flag: read-only.
pub const MS_RDONLY: u32 = sys::KEEL_MS_RDONLY;
/// Longest name of a directory entry, in bytes.
pub const NAME_MAX: usize = sys::KEEL_FS_NAME_MAX;

/// A node's attributes (struct stat's core). Times are nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Attr {
    /// Inode number, unique within the superblock.
    pub ino: u64,
    /// Bytes (regular files, a symlink's target length).
    pub size: u64,
    /// 512-byte units of storage actually used.
    pub blocks: u64,
    pub atime_ns: u64,
    pub mtime_ns: u64,
    pub ctime_ns: u64,
    /// Type (S_IF*) and permission bits.
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    /// Hard links (directories: 2 + subdirectories).
    pub nlink: u32,
    /// Device number (major << 20 | minor) of a device node, else 0.
    pub rdev: u32,
}

/// Filesystem statistics (struct statfs's core).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatFs {
    pub magic: u64,
    pub block_size: u64,
    /// Total blocks (0: no limit).
    pub blocks: u64,
    pub blocks_free: u64,
    /// Total inodes (0: no limit).
    pub files: u64,
    pub files_free: u64,
    /// Longest name.
    pub name_max: u64,
}

/// The entries of a directory being read: `emit` one after the other from
/// `position()`, until it returns false.
pub struct DirEntries<'a> {
    cookie: &'a mut u64,
    emit: unsafe extern "C" fn(*mut c_void, *const c_char, usize, u64, u32) -> i32,
    context: *mut c_void,
    /// The reader refused an entry: every later one is refused too, so
    /// that a filesystem that goes on emitting cannot have a shorter entry
    /// taken past the refused one (which would then be skipped for good).
    stopped: bool,
}

impl DirEntries<'_> {
    /// How many entries earlier calls consumed: start from this one (0 at
    /// the start; "." and ".." are the core's and are not counted).
    pub fn position(&self) -> u64 {
        *self.cookie
    }

    /// Hands the reader one entry (mode: at least its S_IF* type). True:
    /// consumed, go on; false: the reader is full, stop now (this entry
    /// comes first next time).
    pub fn emit(&mut self, name: &[u8], ino: u64, mode: u32) -> bool {
        if self.stopped {
            return false;
        }
        // SAFETY: `emit` and `context` are the pair the core passed to
        // readdir, valid for this call; `name` is readable for its length.
        let stop = unsafe { (self.emit)(self.context, name.as_ptr() as *const c_char, name.len(), ino, mode) };
        if stop != 0 {
            self.stopped = true;
            return false;
        }
        *self.cookie += 1;
        true
    }
}

/// A filesystem type. Implement it on a marker type and register it with
/// `Registration::<MyFs>::new()`.
pub trait FileSystem: 'static {
    /// The name for `mount -t`: 1 to 31 of `[a-z0-9_]` (checked when the
    /// module is compiled).
    const NAME: &'static CStr;
    /// One mounted instance (a superblock): made by `mount`, dropped when
    /// its last mount is gone. A zero-sized type gives every mount the same
    /// handle, so the core shares one superblock between all of them.
    type Super: Send + Sync;
    /// A node (file, directory, symlink).
    type Node: Send + Sync;

    /// Mounts `source` with the comma-separated `options` (None: none):
    /// the superblock and its root directory. Log what is wrong with an
    /// option, naming it and its value, and fail with EINVAL.
    fn mount(source: Option<&CStr>, flags: u32, options: Option<&CStr>) -> Result<(Self::Super, Arc<Self::Node>)>;

    /// The node named `name` in directory `dir` (never "." or ".."), or
    /// ENOENT.
    fn lookup(sb: &Self::Super, dir: &Self::Node, name: &[u8]) -> Result<Arc<Self::Node>>;

    /// The node's attributes.
    fn getattr(sb: &Self::Super, node: &Self::Node) -> Result<Attr>;

    /// The statistics; ENOSYS unless implemented.
    fn statfs(_sb: &Self::Super) -> Result<StatFs> {
        Err(Error::ENOSYS)
    }

    /// Emits the entries of `dir` from `entries.position()`; ENOSYS unless
    /// implemented.
    fn readdir(_sb: &Self::Super, _dir: &Self::Node, _entries: &mut DirEntries<'_>) -> Result {
        Err(Error::ENOSYS)
    }

    /// Reads from a regular file at `offset` into `buffer`; returns the
    /// count, 0 at or past the end. ENOSYS unless implemented.
    fn read(_sb: &Self::Super, _node: &Self::Node, _offset: u64, _buffer: &mut [u8]) -> Result<usize> {
        Err(Error::ENOSYS)
    }

    /// Copies a symlink's target into `buffer` (as much as fits); returns
    /// the target's full length. ENOSYS unless implemented.
    fn readlink(_sb: &Self::Super, _node: &Self::Node, _buffer: &mut [u8]) -> Result<usize> {
        Err(Error::ENOSYS)
    }
}

/// A registered filesystem type; dropping it unregisters the type.
pub struct Registration<T: FileSystem> {
    ops: &'static sys::keel_fs_type_ops,
    _type: PhantomData<T>,
}

// SAFETY: the table is immutable and lives in the module's image; the
// core's registration calls are thread-safe.
unsafe impl<T: FileSystem> Send for Registration<T> {}
// SAFETY: as above; `&Registration` offers nothing.
unsafe impl<T: FileSystem> Sync for Registration<T> {}

impl<T: FileSystem> Registration<T> {
    /// Registers the type. While a filesystem of it is mounted, the module
    /// cannot be unloaded. EEXIST if the name is taken.
    pub fn new() -> Result<Self> {
        let () = Adapter::<T>::NAME_IS_VALID;
        // The table is a constant, so the reference is 'static and points
        // into this module's image: the core finds the owning module by the
        // table's address.
        let ops: &'static sys::keel_fs_type_ops = &Adapter::<T>::OPS;
        // SAFETY: `ops` is a complete table of this crate's callbacks and
        // stays valid (it is static) until keel_unregister_filesystem.
        to_result(unsafe { sys::keel_register_filesystem(ops) })?;
        Ok(Registration { ops, _type: PhantomData })
    }
}

impl<T: FileSystem> Drop for Registration<T> {
    fn drop(&mut self) {
        // SAFETY: `ops` is the table registered in new().
        let code = unsafe { sys::keel_unregister_filesystem(self.ops) };
        if let Err(error) = to_result(code) {
            // A mounted filesystem pins its module, so this does not
            // happen at unload; the table is static and stays valid.
            crate::pr_warn!("{}: cannot unregister: {:?}\n", T::NAME.to_str().unwrap_or("?"), error);
        }
    }
}

/// The C callbacks for a `FileSystem`, and its table.
struct Adapter<T>(PhantomData<T>);

const fn valid_type_name(name: &CStr) -> bool {
    let bytes = name.to_bytes();
    if bytes.is_empty() || bytes.len() > sys::KEEL_FS_TYPE_NAME_MAX {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        let byte = bytes[i];
        if !(byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'_') {
            return false;
        }
        i += 1;
    }
    true
}

/// The core's buffer as a slice a safe `read` or `readlink` may read back:
/// the core's callers hand over memory they have not written (a console
/// command's stack buffer), and a `&mut [u8]` over it must hold
/// initialised bytes, so it is zeroed first. Empty when `size` is 0,
/// without looking at the pointer.
///
/// # Safety
///
/// `buffer` is writable for `size` bytes and nothing else uses it while
/// the slice lives.
unsafe fn zeroed_buffer<'a>(buffer: *mut u8, size: usize) -> &'a mut [u8] {
    if size == 0 || buffer.is_null() {
        return &mut [];
    }
    // SAFETY: writable for `size` bytes (the caller's promise).
    unsafe {
        buffer.write_bytes(0, size);
        slice::from_raw_parts_mut(buffer, size)
    }
}

impl<T: FileSystem> Adapter<T> {
    const NAME_IS_VALID: () = assert!(valid_type_name(T::NAME), "FileSystem::NAME must be 1 to 31 of [a-z0-9_]");

    const OPS: sys::keel_fs_type_ops = sys::keel_fs_type_ops {
        size: core::mem::size_of::<sys::keel_fs_type_ops>() as u32,
        version: sys::KEEL_FS_TYPE_OPS_VERSION,
        name: T::NAME.as_ptr(),
        flags: 0,
        mount: Some(Self::mount),
        kill_super: Some(Self::kill_super),
        remount: None,
        statfs: Some(Self::statfs),
        lookup: Some(Self::lookup),
        put_node: Some(Self::put_node),
        getattr: Some(Self::getattr),
        setattr: None,
        create: None,
        symlink: None,
        link: None,
        unlink: None,
        rmdir: None,
        rename: None,
        readlink: Some(Self::readlink),
        read: Some(Self::read),
        write: None,
        readdir: Some(Self::readdir),
    };

    // The handles: a superblock is a Box<T::Super> and a node an
    // Arc<T::Node>, both turned into raw pointers. The core hands them
    // back only while they are alive: a node while it holds the reference,
    // the superblock until kill_super.

    /// # Safety
    ///
    /// `sb` is a superblock handle this adapter made and the core still
    /// holds.
    unsafe fn super_ref<'a>(sb: *mut c_void) -> &'a T::Super {
        // SAFETY: as the caller guarantees: a live Box<T::Super>.
        unsafe { &*(sb as *const T::Super) }
    }

    /// # Safety
    ///
    /// `node` is a node handle this adapter made, on which the core holds a
    /// reference for the duration of the call.
    unsafe fn node_ref<'a>(node: *mut c_void) -> &'a T::Node {
        // SAFETY: as the caller guarantees: a live Arc<T::Node>'s data.
        unsafe { &*(node as *const T::Node) }
    }

    fn node_handle(node: Arc<T::Node>) -> *mut c_void {
        Arc::into_raw(node) as *mut c_void
    }

    unsafe extern "C" fn mount(
        source: *const c_char,
        flags: u32,
        data: *const c_char,
        super_out: *mut *mut c_void,
        root_out: *mut *mut c_void,
    ) -> i32 {
        // SAFETY: the core passes NUL-terminated strings or null, alive for
        // the call.
        let (source, options) = unsafe { (crate::c_str::optional_c_str(source), crate::c_str::optional_c_str(data)) };
        let (sb, root) = match T::mount(source, flags, options) {
            Ok(mounted) => mounted,
            Err(error) => return error.to_errno(),
        };
        let sb = match try_box(sb) {
            Ok(sb) => Box::into_raw(sb),
            Err(error) => return error.to_errno(),
        };
        // SAFETY: the core passes valid places for both handles.
        unsafe {
            *super_out = sb as *mut c_void;
            *root_out = Self::node_handle(root);
        }
        0
    }

    unsafe extern "C" fn kill_super(sb: *mut c_void) {
        // SAFETY: the core calls this once, after the last mount and the
        // last node reference are gone: the Box is ours to drop.
        drop(unsafe { Box::from_raw(sb as *mut T::Super) });
    }

    unsafe extern "C" fn statfs(sb: *mut c_void, out: *mut sys::keel_vfs_statfs) -> i32 {
        // SAFETY: a live superblock handle.
        let stats = match T::statfs(unsafe { Self::super_ref(sb) }) {
            Ok(stats) => stats,
            Err(error) => return error.to_errno(),
        };
        // SAFETY: the core passes a valid place for the statistics.
        unsafe {
            *out = sys::keel_vfs_statfs {
                magic: stats.magic,
                block_size: stats.block_size,
                blocks: stats.blocks,
                blocks_free: stats.blocks_free,
                files: stats.files,
                files_free: stats.files_free,
                name_max: stats.name_max,
            };
        }
        0
    }

    unsafe extern "C" fn lookup(
        sb: *mut c_void,
        dir: *mut c_void,
        name: *const c_char,
        name_length: usize,
        node_out: *mut *mut c_void,
    ) -> i32 {
        // SAFETY: live handles; `name` is readable for `name_length` bytes.
        let found = unsafe {
            T::lookup(Self::super_ref(sb), Self::node_ref(dir), slice::from_raw_parts(name as *const u8, name_length))
        };
        match found {
            Ok(node) => {
                // SAFETY: the core passes a valid place for the handle.
                unsafe { *node_out = Self::node_handle(node) };
                0
            }
            Err(error) => error.to_errno(),
        }
    }

    unsafe extern "C" fn put_node(_sb: *mut c_void, node: *mut c_void) {
        // SAFETY: `node` came from Arc::into_raw (mount or lookup) and the
        // core gives back each reference once.
        drop(unsafe { Arc::from_raw(node as *const T::Node) });
    }

    unsafe extern "C" fn getattr(sb: *mut c_void, node: *mut c_void, out: *mut sys::keel_vfs_attr) -> i32 {
        // SAFETY: live handles.
        let attr = match unsafe { T::getattr(Self::super_ref(sb), Self::node_ref(node)) } {
            Ok(attr) => attr,
            Err(error) => return error.to_errno(),
        };
        // SAFETY: the core passes a valid place for the attributes.
        unsafe {
            *out = sys::keel_vfs_attr {
                ino: attr.ino,
                size: attr.size,
                blocks: attr.blocks,
                atime_ns: attr.atime_ns,
                mtime_ns: attr.mtime_ns,
                ctime_ns: attr.ctime_ns,
                mode: attr.mode,
                uid: attr.uid,
                gid: attr.gid,
                nlink: attr.nlink,
                rdev: attr.rdev,
                reserved: 0,
            };
        }
        0
    }

    unsafe extern "C" fn readlink(
        sb: *mut c_void,
        node: *mut c_void,
        buffer: *mut c_char,
        size: usize,
        length_out: *mut usize,
    ) -> i32 {
        // SAFETY: `buffer` is writable for `size` bytes.
        let buffer = unsafe { zeroed_buffer(buffer as *mut u8, size) };
        // SAFETY: live handles.
        let result = unsafe { T::readlink(Self::super_ref(sb), Self::node_ref(node), buffer) };
        match result {
            Ok(length) => {
                // SAFETY: the core passes a valid place for the length.
                unsafe { *length_out = length };
                0
            }
            Err(error) => error.to_errno(),
        }
    }

    unsafe extern "C" fn read(
        sb: *mut c_void,
        node: *mut c_void,
        offset: u64,
        buffer: *mut c_void,
        size: usize,
        done_out: *mut usize,
    ) -> i32 {
        // SAFETY: `buffer` is writable for `size` bytes.
        let buffer = unsafe { zeroed_buffer(buffer as *mut u8, size) };
        // SAFETY: live handles.
        let result = unsafe { T::read(Self::super_ref(sb), Self::node_ref(node), offset, buffer) };
        match result {
            Ok(done) if done <= size => {
                // SAFETY: the core passes a valid place for the count.
                unsafe { *done_out = done };
                0
            }
            Ok(_) => Error::EIO.to_errno(),
            Err(error) => error.to_errno(),
        }
    }

    unsafe extern "C" fn readdir(
        sb: *mut c_void,
        dir: *mut c_void,
        cookie: *mut u64,
        emit: sys::keel_fs_dirent_fn,
        context: *mut c_void,
    ) -> i32 {
        let Some(emit) = emit else {
            return Error::EINVAL.to_errno();
        };
        // SAFETY: the core passes a valid cookie, alive for the call.
        let mut entries = DirEntries { cookie: unsafe { &mut *cookie }, emit, context, stopped: false };
        // SAFETY: live handles.
        match unsafe { T::readdir(Self::super_ref(sb), Self::node_ref(dir), &mut entries) } {
            Ok(()) => 0,
            Err(error) => error.to_errno(),
        }
    }
}
