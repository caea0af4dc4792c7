# sqlx_add_module(NAME SOURCES ... [PUBLIC_DEPS ...] [PRIVATE_DEPS ...])
# One module folder = one library target. Public headers live in
# <module>/include/sqlx/<module>/, sources in <module>/src/; the include
# layout lets the compiler guard the boundary.
function(sqlx_apply_warnings target)
  # -Wshadow=local is GCC's; clang (the fuzz build) rejects it as unknown.
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic
                         $<$<CXX_COMPILER_ID:GNU>:-Wshadow=local>
                         -Wnon-virtual-dtor -Wno-missing-field-initializers)
  if(SQLX_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(SQLX_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-omit-frame-pointer)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
endfunction()

function(sqlx_add_module name)
  cmake_parse_arguments(ARG "" "" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(sqlx_${name} STATIC ${ARG_SOURCES})
  add_library(sqlx::${name} ALIAS sqlx_${name})
  target_include_directories(sqlx_${name}
    PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include
    PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
  target_link_libraries(sqlx_${name} PUBLIC ${ARG_PUBLIC_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  set_target_properties(sqlx_${name} PROPERTIES POSITION_INDEPENDENT_CODE ON)
  sqlx_apply_warnings(sqlx_${name})
endfunction()
