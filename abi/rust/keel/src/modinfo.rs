//! Module metadata: one ELF note per `key=value` string in `.note.keel`
//! (docs/module-format.md). `module!` writes them; `modinfo!` adds more.

/// One modinfo note: name "Keel" (namesz 5, padded to 8), type 1, and a
/// NUL-terminated "key=value" descriptor padded to 4 bytes. Built at
/// compile time by the macros.
#[repr(C, align(4))]
pub struct ModInfoNote<const N: usize> {
    namesz: u32,
    descsz: u32,
    note_type: u32,
    name: [u8; 8],
    desc: [u8; N],
}

/// The padded descriptor size for a text of `length` bytes (NUL included).
pub const fn note_desc_size(length: usize) -> usize {
    (length + 3) & !3
}

impl<const N: usize> ModInfoNote<N> {
    /// `text` must end with its NUL and fit in N bytes.
    pub const fn new(text: &[u8]) -> Self {
        assert!(text.len() <= N && !text.is_empty() && text[text.len() - 1] == 0);
        let mut desc = [0u8; N];
        let mut i = 0;
        while i < text.len() {
            desc[i] = text[i];
            i += 1;
        }
        ModInfoNote { namesz: 5, descsz: text.len() as u32, note_type: 1, name: *b"Keel\0\0\0\0", desc }
    }
}

/// Emits one modinfo note from a string expression built with concat!
/// (ending in "\0").
#[doc(hidden)]
#[macro_export]
macro_rules! __modinfo_note {
    ($text:expr) => {
        const _: () = {
            const TEXT: &[u8] = $text.as_bytes();
            #[unsafe(link_section = ".note.keel")]
            #[used]
            static NOTE: $crate::modinfo::ModInfoNote<{ $crate::modinfo::note_desc_size(TEXT.len()) }> =
                $crate::modinfo::ModInfoNote::new(TEXT);
        };
    };
}

/// One `key=value` modinfo note, e.g. `keel::modinfo!("alias", "fs-hello");`.
#[macro_export]
macro_rules! modinfo {
    ($key:literal, $value:literal) => {
        $crate::__modinfo_note!(concat!($key, "=", $value, "\0"));
    };
}
