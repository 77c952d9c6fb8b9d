//! The docs' own examples meet the docs: the 18 v1 examples of the Smooch docs validate with no
//! problem at all.

use crate::common::{fixture_path, now, parse, problems};

#[test]
fn the_18_v1_docs_examples_have_no_problem() {
    let names: Vec<String> = std::fs::read_dir(fixture_path(""))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".json"))
        .collect();
    assert_eq!(names.len(), 18, "{names:?}");
    for name in &names {
        assert_eq!(
            problems(parse(name).validate_at(now())),
            Vec::<String>::new(),
            "{name}"
        );
    }
}
