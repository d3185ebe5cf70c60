//! rustfs: a filesystem type in safe Rust, for the boot tests. Loading it
//! registers the type; a mount is a read-only root directory holding a
//! file ("greeting") and a symlink to it ("link"); unloading drops the
//! registration, which unregisters the type. It uses the `keel` crate only:
//! no `keel::sys`, no `unsafe`.
#![no_std]

extern crate alloc;

use core::ffi::CStr;
use keel::fs::{self, Attr, DirEntries, FileSystem, Registration, StatFs};
use keel::prelude::*;

const GREETING: &[u8] = b"hello from a Rust filesystem\n";
const LINK_TARGET: &[u8] = b"greeting";
const RUSTFS_MAGIC: u64 = 0x5275_7374; // "Rust"

struct RustFs;

struct Super {
    mounted_at_ns: u64,
}

enum Node {
    Root,
    Greeting,
    Link,
}

impl Node {
    fn ino(&self) -> u64 {
        match self {
            Node::Root => 1,
            Node::Greeting => 2,
            Node::Link => 3,
        }
    }
}

/// Copies what fits of `from[offset..]` into `to`.
fn copy_from(from: &[u8], offset: u64, to: &mut [u8]) -> usize {
    let start = usize::try_from(offset).unwrap_or(usize::MAX).min(from.len());
    let count = (from.len() - start).min(to.len());
    to[..count].copy_from_slice(&from[start..start + count]);
    count
}

impl FileSystem for RustFs {
    const NAME: &'static CStr = c"rustfs";
    type Super = Super;
    type Node = Node;

    fn mount(_source: Option<&CStr>, _flags: u32, options: Option<&CStr>) -> Result<(Super, Arc<Node>)> {
        if let Some(options) = options.filter(|options| !options.is_empty()) {
            pr_err!("rustfs: takes no mount options, got '{}'\n", options.to_str().unwrap_or("?"));
            return Err(Error::EINVAL);
        }
        Ok((Super { mounted_at_ns: keel::time::monotonic_ns() }, Arc::new(Node::Root)))
    }

    fn lookup(_sb: &Super, dir: &Node, name: &[u8]) -> Result<Arc<Node>> {
        match (dir, name) {
            (Node::Root, b"greeting") => Ok(Arc::new(Node::Greeting)),
            (Node::Root, b"link") => Ok(Arc::new(Node::Link)),
            (Node::Root, _) => Err(Error::ENOENT),
            _ => Err(Error::ENOTDIR),
        }
    }

    fn getattr(sb: &Super, node: &Node) -> Result<Attr> {
        let (mode, size, nlink) = match node {
            Node::Root => (fs::S_IFDIR | 0o555, 0, 2),
            Node::Greeting => (fs::S_IFREG | 0o444, GREETING.len(), 1),
            Node::Link => (fs::S_IFLNK | 0o777, LINK_TARGET.len(), 1),
        };
        let time = sb.mounted_at_ns;
        Ok(Attr {
            ino: node.ino(),
            size: size as u64,
            mode,
            nlink,
            atime_ns: time,
            mtime_ns: time,
            ctime_ns: time,
            ..Attr::default()
        })
    }

    fn statfs(_sb: &Super) -> Result<StatFs> {
        Ok(StatFs {
            magic: RUSTFS_MAGIC,
            block_size: 4096,
            files: 3,
            name_max: fs::NAME_MAX as u64,
            ..StatFs::default()
        })
    }

    fn readdir(_sb: &Super, dir: &Node, entries: &mut DirEntries<'_>) -> Result {
        if !matches!(dir, Node::Root) {
            return Err(Error::ENOTDIR);
        }
        let children = [(&b"greeting"[..], Node::Greeting, fs::S_IFREG), (&b"link"[..], Node::Link, fs::S_IFLNK)];
        for (name, node, mode) in children.iter().skip(entries.position() as usize) {
            if !entries.emit(name, node.ino(), *mode) {
                break;
            }
        }
        Ok(())
    }

    fn read(_sb: &Super, node: &Node, offset: u64, buffer: &mut [u8]) -> Result<usize> {
        match node {
            Node::Greeting => Ok(copy_from(GREETING, offset, buffer)),
            Node::Root => Err(Error::EISDIR),
            Node::Link => Err(Error::EINVAL),
        }
    }

    fn readlink(_sb: &Super, node: &Node, buffer: &mut [u8]) -> Result<usize> {
        match node {
            Node::Link => {
                copy_from(LINK_TARGET, 0, buffer);
                Ok(LINK_TARGET.len())
            }
            _ => Err(Error::EINVAL),
        }
    }
}

struct RustFsModule {
    _registration: Registration<RustFs>,
}

impl Module for RustFsModule {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let registration = Registration::new()?;
        pr_info!("{}: ready\n", module.name());
        Ok(RustFsModule { _registration: registration })
    }
}

impl Drop for RustFsModule {
    fn drop(&mut self) {
        // The registration is dropped after this, which unregisters the type.
        pr_info!("rustfs: unregistering\n");
    }
}

keel::module! {
    type: RustFsModule,
    name: "rustfs",
    description: "A read-only filesystem in safe Rust (boot tests)",
    license: "MIT",
}
