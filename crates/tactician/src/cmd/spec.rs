//! `tactician spec`.

use crate::cli::SpecArgs;

/// Prints the built-in game's feature spec, or checks an external game spec (with its
/// declarations) and prints its feature spec; `--game` prints the whole game spec.
pub fn run(args: SpecArgs) -> anyhow::Result<()> {
    let game = super::game(args.file.as_deref())?;
    if args.game {
        return super::print(&String::from_utf8_lossy(&game.to_json()));
    }
    super::print_json(game.features())
}
