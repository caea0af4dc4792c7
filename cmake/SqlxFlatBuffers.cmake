# sqlx_flatbuffers_headers(TARGET name OUTPUT_DIR dir SCHEMAS a.fbs ...)
# Runs flatc at build time: each a.fbs becomes OUTPUT_DIR/a_generated.h and
# OUTPUT_DIR/a_bfbs_generated.h, the schema itself in binary form (field
# names, slots, types, defaults) for code that binds to fields by name. Both
# are build outputs, never committed. --gen-mutable: a supervisor bumps a
# job's attempt number in place (jobs.h SetAttempt). TARGET is an INTERFACE library: linking
# it (PRIVATE: generated code never reaches a public header) adds the include
# directory and runs flatc first. FlatBuffers 2.0.8 ships no
# flatbuffers_generate_headers() (shared/DEPENDENCIES.md); its generated
# headers static_assert flatc 2.0.8.
function(sqlx_flatbuffers_headers)
  cmake_parse_arguments(ARG "" "TARGET;OUTPUT_DIR" "SCHEMAS" ${ARGN})
  set(outputs)
  foreach(schema IN LISTS ARG_SCHEMAS)
    get_filename_component(stem ${schema} NAME_WE)
    set(out ${ARG_OUTPUT_DIR}/${stem}_generated.h ${ARG_OUTPUT_DIR}/${stem}_bfbs_generated.h)
    add_custom_command(
      OUTPUT ${out}
      COMMAND flatbuffers::flatc --cpp --scoped-enums --gen-mutable --bfbs-gen-embed -o ${ARG_OUTPUT_DIR} ${schema}
      DEPENDS ${schema} $<TARGET_FILE:flatbuffers::flatc>
      COMMENT "flatc ${schema}"
      VERBATIM)
    list(APPEND outputs ${out})
  endforeach()
  add_custom_target(${ARG_TARGET}_flatc DEPENDS ${outputs})
  add_library(${ARG_TARGET} INTERFACE)
  target_include_directories(${ARG_TARGET} INTERFACE ${ARG_OUTPUT_DIR})
  target_link_libraries(${ARG_TARGET} INTERFACE flatbuffers::flatbuffers)
  add_dependencies(${ARG_TARGET} ${ARG_TARGET}_flatc)
endfunction()
