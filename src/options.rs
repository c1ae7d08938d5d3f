//! One definition per option: the `options!` macro declares a stage's options struct with its
//! defaults and one-line help, and derives from that single place the serde schema (YAML), the
//! `Default`, and the table that `asrpipe stages` prints. Help text can never drift from the code.

/// One documented option, as `asrpipe stages` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionDoc {
    /// Option name as written in YAML.
    pub name: &'static str,
    /// One-line help, from the field's doc comment.
    pub help: &'static str,
    /// The default value rendered as YAML would read it.
    pub default: String,
}

/// Implemented by every options struct declared with [`options!`](macro@crate::options).
pub trait Describe {
    /// Name, help and default of every field, in declaration order.
    fn option_docs() -> Vec<OptionDoc>;
}

/// Render a default value for the help table (strings without JSON quotes).
pub fn render_default<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(serde_json::Value::Null) => "none".to_string(),
        // Options are f32: print the shortest decimal that reads back to the same f32 (0.97, not 0.9700000286102295).
        Ok(serde_json::Value::Number(n)) if n.is_f64() => {
            let v = n.as_f64().unwrap_or_default();
            if (v as f32) as f64 == v {
                (v as f32).to_string()
            } else {
                v.to_string()
            }
        }
        Ok(v) => v.to_string(),
        Err(_) => "?".to_string(),
    }
}

/// Declare an options struct: `field: Type = default, /// help` per line.
///
/// With `patch Name;` after the struct, also declare `Name`: the same fields, each optional, for
/// settings that override some options of a section (command-line flags, experiment defaults and
/// runs). `Name::apply` writes the given ones over a config; `Name::over` layers two patches.
///
/// ```ignore
/// options! {
///     /// Mel filter bank.
///     pub struct FilterbankOptions {
///         /// Number of triangular mel bins.
///         num_bins: usize = 23,
///     }
///     patch FilterbankPatch;
/// }
/// ```
#[macro_export]
macro_rules! options {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(
                #[doc = $doc:literal]
                $field:ident : $ty:ty = $default:expr
            ),* $(,)?
        }
        patch $patch:ident;
    ) => {
        $crate::options! {
            $(#[$meta])*
            pub struct $name {
                $( #[doc = $doc] $field : $ty = $default, )*
            }
        }

        #[doc = concat!("Some options of [`", stringify!($name), "`]; the others are left as they are.")]
        #[derive(Debug, Clone, Default, PartialEq, serde::Deserialize, serde::Serialize)]
        #[serde(deny_unknown_fields)]
        pub struct $patch {
            $(
                #[doc = $doc]
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub $field: Option<$ty>,
            )*
        }

        impl $patch {
            /// Write the options this patch sets over `config`.
            pub fn apply(&self, config: &mut $name) {
                $( if let Some(v) = &self.$field { config.$field = v.clone(); } )*
            }

            /// This patch over `base`: where both set an option, this one wins.
            pub fn over(&self, base: &$patch) -> $patch {
                $patch { $( $field: self.$field.clone().or_else(|| base.$field.clone()), )* }
            }

            /// True when no option is set.
            pub fn is_empty(&self) -> bool {
                true $( && self.$field.is_none() )*
            }
        }
    };
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(
                #[doc = $doc:literal]
                $field:ident : $ty:ty = $default:expr
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
        #[serde(deny_unknown_fields, default)]
        pub struct $name {
            $(
                #[doc = $doc]
                pub $field: $ty,
            )*
        }

        impl Default for $name {
            fn default() -> Self {
                Self { $( $field: $default, )* }
            }
        }

        impl $crate::options::Describe for $name {
            fn option_docs() -> Vec<$crate::options::OptionDoc> {
                let d = Self::default();
                vec![ $(
                    $crate::options::OptionDoc {
                        name: stringify!($field),
                        help: $doc.trim(),
                        default: $crate::options::render_default(&d.$field),
                    },
                )* ]
            }
        }
    };
}
